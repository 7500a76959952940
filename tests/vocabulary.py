"""The internal codes an operator must never read bare, generated from the code's own enums and tables, and the
check that finds them in rendered text: a test of words, not a hand-kept list that goes stale."""

from __future__ import annotations

import re
from collections.abc import Iterable
from html.parser import HTMLParser
from typing import Final

from connectors.protection import BreakerState
from console.alerts import IncidentKind
from console.auth import Role
from foundation import vocabulary
from foundation.errors import ERROR_CLASSES, Action
from foundation.topology import Level
from foundation.vocabulary import Vocab
from hub.outbox import KINDS
from hub.policy import UNEXPECTED
from hub.store.models import AuditAction, MessageState

# Family → the codes the product can show in it, read from where the product defines them.
FAMILIES: Final[dict[Vocab, frozenset[str]]] = {
    Vocab.STATE: frozenset(MessageState),
    Vocab.KIND: frozenset({*KINDS, *(actor for actor, _queue in KINDS.values())}),
    Vocab.ERROR_CLASS: frozenset({*ERROR_CLASSES, UNEXPECTED}),
    Vocab.ERROR_ADVICE: frozenset({*ERROR_CLASSES, UNEXPECTED}),
    Vocab.INCIDENT: frozenset(IncidentKind),
    Vocab.AUDIT: frozenset(AuditAction),
    Vocab.ROLE: frozenset(Role),
    Vocab.LEVEL: frozenset(Level),
    Vocab.CIRCUIT: frozenset({*BreakerState, "half-open"}),  # the console derives "half-open" from its window
    Vocab.REPLAY_MODE: frozenset({"original", "fresh"}),  # hub.replay.Mode
    Vocab.ACTION: frozenset(Action),
}

# The families whose bare codes a page or a command's output must not show (issue #23, "Done when" 1).
SCANNED: Final = (Vocab.STATE, Vocab.KIND, Vocab.ERROR_CLASS, Vocab.INCIDENT, Vocab.AUDIT, Vocab.ROLE, Vocab.LEVEL)


def tokens() -> dict[str, set[Vocab]]:
    """Every scanned code, with the families it belongs to ("running" is a state and a job state alike)."""
    found: dict[str, set[Vocab]] = {}
    for family in SCANNED:
        for code in FAMILIES[family]:
            found.setdefault(str(code), set()).add(family)
    return found


def _pattern(codes: Iterable[str]) -> re.Pattern[str]:
    # a code as a word of its own: not part of a longer identifier, a path or an option (--state, /login)
    alternatives = "|".join(sorted((re.escape(c) for c in codes), key=len, reverse=True))
    return re.compile(rf"(?<![\w./:\-])({alternatives})(?![\w\-/]|[.:]\w)", re.IGNORECASE)


def bare_in_text(text: str) -> list[str]:
    """The codes in plain text (a command's output) that are not wrapped in their label.

    A code may stand after its label in brackets, as :func:`foundation.vocabulary.labelled` writes it
    ("Bị dừng chờ xử lý (parked)"); and it may stand in a list of choices (``[parked|held]``) or as the default
    (``[default: parked]``) when each choice's
    labelled form is in the same text (the choices are what the operator types, the labels what they mean). Command
    lines are syntax, not words: an option's value (``--state parked``), a command path (``dvc-hub poll``) and the
    names column of a help panel."""
    known = tokens()
    text = re.sub(r"--[\w-]+[ =]['\"]?[\w.:*\-]+['\"]?", "", text)
    text = re.sub(r"dvc-hub(?: [a-z][\w-]*)+", "", text)
    text = re.sub(r"(?m)^│ [\w-]+(?=\s{2})", "│", text)
    labelled = {code: [vocabulary.labelled(family, code) for family in families] for code, families in known.items()}
    choice_lists = re.findall(r"[\[<]([\w.\-]+(?:\|[\w.\-]+)+)[\]>]", text)
    for choice_list in [*choice_lists, *re.findall(r"\[default: ([\w.\-]+)\]", text)]:
        if all(any(form in text for form in labelled.get(c, [c])) for c in choice_list.split("|")):
            text = text.replace(choice_list, "")
    for forms in labelled.values():
        for form in forms:
            text = text.replace(form, "")
    return [m.group(1) for m in _pattern(known).finditer(text)]


class _VisibleText(HTMLParser):
    """The text a reader sees: no attributes (a title is the code's place), no script or style, and no element of
    the class ``code`` (a secondary column of codes)."""

    SKIPPED: Final = frozenset({"script", "style"})
    VOID: Final = frozenset({"br", "hr", "img", "input", "meta", "link", "col", "area", "base", "source", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden: list[bool] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        classes = (dict(attrs).get("class") or "").split()
        self._hidden.append(tag in self.SKIPPED or "code" in classes or bool(self._hidden and self._hidden[-1]))

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.VOID and self._hidden:
            self._hidden.pop()

    def handle_data(self, data: str) -> None:
        if not (self._hidden and self._hidden[-1]):
            self.parts.append(data)


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    parser.close()
    return " ".join(parser.parts)


def bare_in_html(html: str) -> list[str]:
    """The codes a reader sees on a page outside a tooltip or a code column."""
    return [m.group(1) for m in _pattern(tokens()).finditer(visible_text(html))]
