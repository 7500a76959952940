"""The one vocabulary every word an operator reads comes from: gettext catalogues (``locale/<lang>/LC_MESSAGES/
dvc_hub.po``, read with Babel), Vietnamese by default and English second, and the vi_VN way of writing numbers.

Each catalogue entry has a context saying what family the code belongs to (``state``, ``error_class``, ``audit``,
...) and the code itself as its msgid, so a translator edits one file per language and a code without a label is
found by a test (``tests/foundation/test_vocabulary.py``) rather than by an operator."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Final

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LANGUAGES: Final = ("vi", "en")
DEFAULT: Final = "vi"
LOCALES: Final = {"vi": "vi_VN", "en": "en_GB"}
DOMAIN: Final = "dvc_hub"
CATALOGUES: Final = Path(__file__).resolve().parent / "locale"
DASH: Final = "–"


class Vocab(StrEnum):
    """The families of internal codes that have a label: a catalogue context each."""

    CONSOLE = "console"  # the console's own texts, keyed by a short name
    STATE = "state"  # a message's state (hub.store.models.MessageState)
    KIND = "kind"  # a message's kind and its actor (hub.outbox.KINDS)
    ERROR_CLASS = "error_class"  # foundation.errors.ERROR_CLASSES and hub.policy.UNEXPECTED
    ERROR_ADVICE = "error_advice"  # what to do about an error class
    INCIDENT = "incident"  # console.alerts.IncidentKind
    INCIDENT_STATE = "incident_state"
    AUDIT = "audit"  # hub.store.models.AuditAction
    ROLE = "role"  # console.auth.Role
    LEVEL = "level"  # foundation.topology.Level
    REPLAY_MODE = "replay_mode"  # hub.replay.Mode
    CIRCUIT = "circuit"  # connectors.protection.BreakerState and the console's derived circuit
    JOB_STATE = "job_state"  # a replay job's state
    ACTION = "action"  # foundation.errors.Action
    SCHEDULE_KIND = "schedule_kind"  # schedules.plan.JobKind
    AUDIT_FIELD = "audit_field"  # the keys of an audit entry's details
    DOSSIER_FIELD = "dossier_field"  # the canonical dossier's fields (mappings.canonical), with their DVCQG names


@cache
def catalogue(lang: str) -> Catalog:
    """The catalogue of ``lang`` (an unknown language reads the default's), parsed once per process."""
    with (CATALOGUES / language(lang) / "LC_MESSAGES" / f"{DOMAIN}.po").open("rb") as source:
        return read_po(source, domain=DOMAIN)


def language(value: str | None) -> str:
    return value if value in LANGUAGES else DEFAULT


def label(vocab: Vocab | str, code: str | None, lang: str = DEFAULT) -> str:
    """The operator's word for ``code`` in its family; a code without an entry shows itself, so a gap is visible
    (and found by the vocabulary test), never fatal."""
    if code is None or code == "":
        return "—"
    entry = catalogue(lang).get(str(code), context=str(vocab))
    if entry is None or not entry.string:
        return str(code)
    return str(entry.string)


def has_label(vocab: Vocab | str, code: str, lang: str = DEFAULT) -> bool:
    entry = catalogue(lang).get(str(code), context=str(vocab))
    return entry is not None and bool(entry.string)


def labelled(vocab: Vocab | str, code: str | None, lang: str = DEFAULT) -> str:
    """The label with the code as a secondary detail, for plain text (the CLI, logs for people): "Bị dừng (parked)"."""
    if code is None or code == "":
        return "—"
    word = label(vocab, code, lang)
    return word if word == code else f"{word} ({code})"


def choices(vocab: Vocab | str, codes: Iterable[str], lang: str = DEFAULT) -> str:
    """The values an option takes, each labelled: "Bị dừng chờ xử lý (parked), Tạm giữ (đích tạm dừng) (held)"."""
    return ", ".join(labelled(vocab, str(code), lang) for code in codes)


def advice(error_class: str | None, lang: str = DEFAULT) -> str:
    """What an operator should do about an error class, in one sentence."""
    return label(Vocab.ERROR_ADVICE, error_class, lang) if error_class else ""


def codes(vocab: Vocab | str, lang: str = DEFAULT) -> frozenset[str]:
    """Every code the catalogue of ``lang`` labels in a family."""
    return frozenset(str(m.id) for m in catalogue(lang) if m.context == str(vocab) and m.id)


def number(value: float | None, lang: str = DEFAULT, *, decimals: int = 0) -> str:
    """A figure written as ``lang`` writes it: vi_VN groups with dots and marks decimals with a comma (1.234,5)."""
    if value is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(value, pattern, locale=LOCALES[language(lang)])


def percent(ratio: float | None, lang: str = DEFAULT, *, decimals: int = 1) -> str:
    """A ratio (0.571) as a percentage with one decimal: ``57,1 %`` in vi_VN (a space before the sign)."""
    if ratio is None:
        return DASH
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "") + (" %" if language(lang) == "vi" else "%")
    return format_percent(ratio, pattern, locale=LOCALES[language(lang)])
