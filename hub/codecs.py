"""The pipeline's questions to a system's kind: map this source's record, say what to send to this target.

The pipeline only says "this raw record came from system S" and "this dossier goes to target T"; the kind package
of S or T (:mod:`systems.registry`) answers. The hub fills in what the mappings need from its own state: the
procedure-code mapping and the progress entries a target has not seen yet.
"""

from __future__ import annotations

from connectors.base import RawRecord
from connectors.content import same_content  # re-exported: the hub's name for it
from foundation.errors import ConfigurationError
from foundation.topology import System
from hub.context import HubContext
from mappings.canonical import Dossier, ProgressEntry
from systems.kind import Outgoing
from systems.registry import kind_of

__all__ = ["same_content", "to_canonical", "to_target"]


def to_canonical(ctx: HubContext, system_name: str, raw: RawRecord) -> Dossier:
    """A source's record as a canonical dossier (the source's own kind decides the mapping)."""
    system = ctx.topology.systems[system_name]
    mapping = kind_of(system).to_canonical
    if mapping is None:
        raise ConfigurationError(
            f"Hệ thống {system_name} ({system.kind}) không phải nguồn hồ sơ (not a dossier source)"
        )
    return mapping(raw, ctx.procedures)


def _new_progress(dossier: Dossier, previous: Dossier | None) -> list[ProgressEntry]:
    known = {e.identity for e in previous.progress} if previous else set()
    return [e for e in dossier.progress if e.identity not in known]


def to_target(
    ctx: HubContext, system: System, dossier: Dossier, previous: Dossier | None, *, unit_code: str | None
) -> Outgoing:
    """What to send to ``system`` (for ``unit_code``'s copy) for this revision, given what it already has."""
    mapping = kind_of(system).to_target
    if mapping is None:
        raise ConfigurationError(f"Không biết gửi tới {system.name} ({system.kind}) (no mapping for this target kind)")
    return mapping(dossier, _new_progress(dossier, previous), unit_code, ctx.procedures)
