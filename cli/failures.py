"""Where every ``dvc-hub`` command's failure becomes one Vietnamese line on stderr and an exit code: 1 for a problem
the operator can fix (an unknown id, a database down or not migrated, a broken topology), 2 for a wrong command line,
as click does. ``dvc-hub --debug ...`` shows the traceback instead; an error the hub does not know keeps its
traceback, since that is a bug to report."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import typer
from pydantic import ValidationError
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, ProgrammingError
from typer._click.core import Context  # typer vendors click; it exports no Context or usage error but BadParameter
from typer._click.exceptions import MissingParameter, NoSuchOption, UsageError
from typer.core import TyperGroup

from foundation.errors import HubError
from foundation.settings import get_settings
from foundation.topology import TopologyFileInvalid
from hub.store.db import DatabaseUnavailable, unavailable

# PostgreSQL's undefined_table and undefined_column: a schema older than the code
_UNMIGRATED_STATES = ("42P01", "42703")
_UNMIGRATED_SQLITE = ("no such table", "no such column")


@dataclass(frozen=True, slots=True)
class Failure:
    """What to print and how to exit."""

    line: str
    exit_code: int = 1


class HubGroup(TyperGroup):
    """The root command: runs the chosen subcommand and turns a known failure into :class:`Failure`'s line."""

    def invoke(self, ctx: Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            failure = None if ctx.params.get("debug") else explain(exc)
            if failure is None:
                raise
            typer.echo(failure.line, err=True)
            raise typer.Exit(failure.exit_code) from None


def explain(exc: BaseException) -> Failure | None:
    """The line an operator reads for ``exc``, or None for an error the hub does not expect (a bug)."""
    if isinstance(exc, typer.Exit | typer.Abort):
        return None
    if isinstance(exc, UsageError):
        return Failure(_usage(exc), exc.exit_code)
    if isinstance(exc, ArgumentError):  # create_engine refused the URL, or its driver is not installed
        return Failure(_one_line(f"DVC_HUB_DATABASE_URL không dùng được ({exc}): sửa biến môi trường hoặc tệp .env."))
    if isinstance(exc, DatabaseUnavailable) and isinstance(exc.__cause__, DBAPIError):
        return Failure(_unreachable(exc.__cause__))
    if isinstance(exc, DBAPIError):
        if _unmigrated(exc):
            return Failure(
                f"Cơ sở dữ liệu {_database()} chưa có lược đồ của phiên bản này: chạy `dvc-hub db upgrade` rồi thử lại."
            )
        if unavailable(exc):
            return Failure(_unreachable(exc))
        return None
    if isinstance(exc, TopologyFileInvalid):
        return Failure(
            _one_line(
                f"Tệp topology {exc.path} không hợp lệ ({'; '.join(exc.problems)}): sửa tệp rồi kiểm tra bằng "
                f"`dvc-hub config check {exc.path}`."
            )
        )
    if isinstance(exc, HubError):
        return Failure(_one_line(str(exc)))
    if isinstance(exc, ValidationError):
        return Failure(_invalid(exc))
    if isinstance(exc, OSError) and exc.filename is not None:
        return Failure(f"Không dùng được tệp {exc.filename}: {exc.strerror or exc}.")
    return None


def _usage(exc: UsageError) -> str:
    where = f" — xem `{exc.ctx.command_path} --help`" if exc.ctx is not None else ""
    if isinstance(exc, NoSuchOption):
        return f"Không có tùy chọn {exc.option_name}{where}."
    if isinstance(exc, MissingParameter):
        return f"Thiếu {_hint(exc)}{where}."
    if isinstance(exc, typer.BadParameter):
        hint = _hint(exc)
        if not hint:  # raised by a command about its arguments together, in words written for the operator
            return f"{_reason(exc)}{where}."
        return f"Giá trị không hợp lệ cho {hint}: {_reason(exc)}{where}."
    if exc.message.startswith("No such command"):
        return f"Không có lệnh này ({exc.message.split(' ', 3)[-1].rstrip('.')}){where}."
    return f"Dòng lệnh sai: {exc.message}{where}."


def _hint(exc: typer.BadParameter) -> str:
    if exc.param_hint is not None:
        return exc.param_hint if isinstance(exc.param_hint, str) else " / ".join(exc.param_hint)
    param = exc.param
    if param is None:
        return ""
    return " / ".join(getattr(param, "opts", None) or [str(param.name)])


def _reason(exc: typer.BadParameter) -> str:
    """A parser's own words (our date parsers speak Vietnamese); for a choice, the values it takes."""
    cause = exc.__cause__
    if isinstance(cause, ValidationError) and cause.errors():
        first = cause.errors()[0]
        choices = getattr(getattr(exc.param, "type_descriptor", None), "choices", None)
        if choices:
            values = ", ".join(str(getattr(c, "value", c)) for c in choices)
            return f"{first['input']!r} không có trong danh sách; chọn một trong: {values}"
        error = first.get("ctx", {}).get("error")
        if isinstance(error, ValueError):
            return _one_line(str(error)).rstrip(".")
    return _one_line(exc.message).rstrip(".")


def _unmigrated(exc: DBAPIError) -> bool:
    if isinstance(exc, ProgrammingError) and str(getattr(exc.orig, "sqlstate", "")) in _UNMIGRATED_STATES:
        return True
    return isinstance(exc, OperationalError) and str(exc.orig).startswith(_UNMIGRATED_SQLITE)


def _unreachable(exc: DBAPIError) -> str:
    reason = str(exc.orig).strip().splitlines()[0].rsplit(": ", 1)[-1].rstrip(".")
    return (
        f"Không kết nối được cơ sở dữ liệu {_database()} ({reason}): kiểm tra máy chủ PostgreSQL đang chạy và "
        "DVC_HUB_DATABASE_URL."
    )


def _database() -> str:
    """The configured database, without its password, as the operator wrote it."""
    try:
        url = make_url(get_settings().database_url)
    except Exception:  # the settings themselves may be what failed
        return ""
    return url.render_as_string(hide_password=True)


def _invalid(exc: ValidationError) -> str:
    settings = exc.title == "Settings"
    problems = "; ".join(
        f"{'DVC_HUB_' + '.'.join(map(str, e['loc'])).upper() if settings else '.'.join(map(str, e['loc']))}: {e['msg']}"
        for e in exc.errors()
    )
    if settings:
        return _one_line(f"Cấu hình không hợp lệ ({problems}): sửa biến môi trường hoặc tệp .env.")
    return _one_line(f"Giá trị không hợp lệ: {problems}.")


def _one_line(text: str) -> str:
    return " ".join(text.split())
