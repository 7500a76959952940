"""What "the target already holds this" means, shared by the hub (before a push) and connectors (after a refusal)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from connectors.base import RawRecord


def same_content(existing: RawRecord, record: RawRecord, *, not_echoed: frozenset[str] = frozenset()) -> bool:
    """Whether the target's copy already says everything ``record`` would say."""
    return all(_same(existing.get(key), value) for key, value in record.items() if key not in not_echoed)


def _same(left: Any, right: Any) -> bool:
    if isinstance(right, dict):
        return isinstance(left, dict) and all(_same(left.get(k), v) for k, v in right.items())
    if isinstance(right, Sequence) and not isinstance(right, str):
        return (
            isinstance(left, Sequence)
            and not isinstance(left, str)
            and len(left) == len(right)
            and all(_same(a, b) for a, b in zip(left, right, strict=True))
        )
    if left is None or right is None:
        return left in (None, "") and right in (None, "")
    return str(left) == str(right)
