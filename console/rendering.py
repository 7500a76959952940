"""How the console renders a page: Jinja2 templates with the console's filters (:mod:`console.formatting`) and
what every template needs (the user, the language and its texts, the CSRF token)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape

from console import history, i18n
from console.auth import Role
from console.deps import console, current_user, language_of
from console.formatting import duration, local_time, pretty_json, status_label
from foundation import vocabulary
from foundation.clock import today
from foundation.errors import ERROR_CLASSES
from foundation.topology import LEVEL_DEPTH, Topology, Unit
from foundation.vocabulary import Vocab
from reports.labels import number, percent, share

TEMPLATES = Path(__file__).resolve().parent / "templates"


templates = Jinja2Templates(directory=str(TEMPLATES))
templates.env.filters["local"] = local_time
templates.env.filters["duration"] = duration
templates.env.filters["json"] = pretty_json
# Report figures are written the vi_VN way in every language of the console: they are what the province files.
templates.env.filters["vn_number"] = number
templates.env.filters["vn_percent"] = percent
templates.env.globals["vn_share"] = share
templates.env.filters["percent"] = lambda ratio, decimals=1: vocabulary.percent(ratio, decimals=decimals)


# Every error class a message can carry, for the pickers (the policy's name for an unexpected exception included).
ERROR_CLASS_CHOICES = (*sorted(ERROR_CLASSES), "unexpected")

# A replay job's filter fields, in the order a reader wants them, with the console text that names each.
_FILTER_FIELDS = (
    ("since", "since"),
    ("until", "until"),
    ("target", "target"),
    ("unit_code", "unit"),
    ("procedure_code", "procedure"),
    ("dossier_code", "dossier_code"),
    ("state", "state"),
    ("error_class", "error_class"),
)


def term(vocab: str, code: str | None, lang: str) -> Markup:
    """An internal code as the operator reads it: its label, the code in the tooltip."""
    if code is None or code == "":
        return Markup("—")
    return Markup('<span class="term" title="{}">{}</span>').format(code, vocabulary.label(vocab, code, lang))


def job_filter(flt: dict[str, Any], lang: str) -> Markup:
    """A replay job's filter as labelled fields ("Trạng thái: Bị dừng chờ xử lý; ..."), the empty ones left out."""
    parts = []
    for key, text_key in _FILTER_FIELDS:
        value = flt.get(key)
        if value in (None, ""):
            continue
        if key == "state":
            shown = term(Vocab.STATE, str(value), lang)
        elif key == "error_class":
            shown = term(Vocab.ERROR_CLASS, str(value), lang)
        else:
            shown = escape(str(value))
        parts.append(Markup("{}: {}").format(i18n.text(text_key, lang), shown))
    return Markup("; ").join(parts) if parts else Markup("—")


# The audit details whose values are codes of a family, shown by their label.
_DETAIL_VALUES = {"role": Vocab.ROLE, "from": Vocab.ROLE, "to": Vocab.ROLE, "state": Vocab.STATE}
_DETAIL_VALUES |= {"error_class": Vocab.ERROR_CLASS, "mode": Vocab.REPLAY_MODE}


def audit_details(details: dict[str, Any] | None, lang: str) -> Markup:
    """An audit entry's details as labelled fields ("Vai trò: Quản trị viên"), each key's code in its tooltip."""
    if not details:
        return Markup("")
    parts = []
    for key, value in details.items():
        name = term(Vocab.AUDIT_FIELD, key, lang)
        family = _DETAIL_VALUES.get(key)
        if value is None or value == "":
            continue
        if family is not None and isinstance(value, str):
            shown = term(family, value, lang)
        elif isinstance(value, bool):
            shown = escape(i18n.text("yes" if value else "no", lang))
        elif isinstance(value, int | float):
            shown = escape(vocabulary.number(value, lang))
        else:
            shown = escape(str(value))
        parts.append(Markup("{}: {}").format(name, shown))
    return Markup("; ").join(parts)


def schedule_job(job_id: str, lang: str) -> Markup:
    """A periodic job by what it does ("Lấy thay đổi theo lịch · 20965"), its id in the tooltip."""
    kind, _, rest = job_id.partition(":")
    if kind == "daily":
        kind, rest = rest, ""
    word = vocabulary.label(Vocab.SCHEDULE_KIND, kind, lang)
    unit = rest.rpartition(":")[2] if rest else ""
    return Markup('<span class="term" title="{}">{}</span>').format(job_id, f"{word} · {unit}" if unit else word)


def unit(topology: Topology | None, code: str | None, on: date | None = None) -> Markup:
    """A unit by name with its code, as the topology the console runs on names it."""
    if not code:
        return Markup("—")
    shown = topology.unit_label(code, on) if topology is not None else code
    return Markup('<span class="unit" title="{}">{}</span>').format(code, shown)


def system(topology: Topology | None, name: str | None) -> Markup:
    """A target or a source by what operators call it (Cổng DVCQG); a source's unit after it ("motcua-x:20965")."""
    if not name:
        return Markup("—")
    system_name, _, unit_code = name.partition(":")
    title = topology.system_title(system_name) if topology is not None else system_name
    shown = Markup('<span class="system" title="{}">{}</span>').format(name, title)
    return Markup("{} · {}").format(shown, unit(topology, unit_code)) if unit_code else shown


def _unit_choices(topology: Topology | None) -> list[Unit]:
    """The units an operator picks from, by level then name: today's first, then the merged ones (their dossiers
    keep their codes)."""
    if topology is None:
        return []
    latest: dict[str, Unit] = {}
    for u in topology.units:
        if u.code not in latest or u.valid_to > latest[u.code].valid_to:
            latest[u.code] = u
    return sorted(latest.values(), key=lambda u: (not u.valid_on(today()), LEVEL_DEPTH[u.level], u.name))


def render(
    request: Request,
    name: str,
    context: dict[str, Any],
    *,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """A page with what every template needs: the user, the language, its texts and the CSRF token."""
    lang = language_of(request)
    user = current_user(request)
    topology = console(request).topology
    base = {
        "user": user,
        "lang": lang,
        "t": lambda key, **kw: i18n.text(key, lang).format(**kw) if kw else i18n.text(key, lang),
        "csrf": request.state.csrf,
        "status_label": lambda code: status_label(code, lang),
        "term": lambda vocab, code: term(vocab, code, lang),
        "say": lambda vocab, code: vocabulary.label(vocab, code, lang),
        "advice": lambda error_class: vocabulary.advice(error_class, lang),
        "job_filter": lambda flt: job_filter(flt or {}, lang),
        "error_classes": ERROR_CLASS_CHOICES,
        "audit_details": lambda details: audit_details(details, lang),
        "schedule_job": lambda job_id: schedule_job(job_id, lang),
        "unit_label": lambda code, on=None: unit(topology, code, on),
        "system_label": lambda name: system(topology, name),
        "unit_choices": _unit_choices(topology),
        "history_steps": lambda data: history.steps(data, lang),
        "history_changes": lambda changes: history.field_changes(changes, lang),
        "unit_text": lambda code: topology.unit_label(code) if topology is not None else code,
        "Role": Role,
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code, headers=headers)
