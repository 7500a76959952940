"""How the console renders a page: Jinja2 templates with the console's filters (:mod:`console.formatting`) and
what every template needs (the user, the language and its texts, the CSRF token)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

from console import i18n
from console.auth import Role
from console.deps import current_user, language_of
from console.formatting import duration, local_time, pretty_json, status_label
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
    base = {
        "user": user,
        "lang": lang,
        "t": lambda key, **kw: i18n.text(key, lang).format(**kw) if kw else i18n.text(key, lang),
        "csrf": request.state.csrf,
        "status_label": lambda code: status_label(code, lang),
        "Role": Role,
        "path": request.url.path,
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code, headers=headers)
