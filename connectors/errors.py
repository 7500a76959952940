"""Retry-or-park as a table: what a remote answer means for the message that caused it.

Every connector classifies what it saw (a transport failure, an HTTP status, a SOAP fault code, a portal
``error_code`` inside a 200 body) through :class:`ErrorTable` into a :class:`Resolution`, and :func:`to_error` turns
the verdict into the hub's error tree (:mod:`hub.errors`)::

    what was seen                           resolution     raised as
    ───────────────────────────────────     ───────────    ───────────────────────────────────────────────
    connection refused / reset / DNS        RETRY          RemoteUnavailable
    no answer within the timeout            TIMEOUT        RemoteTimeout
    answer not complete within the deadline DEADLINE       DeadlineExceeded (a server trickling its answer)
    answer larger than the size cap         TOO_LARGE      AnswerTooLarge: parked (the same answer again)
    complete answer that cannot be parsed   UNREADABLE     UnreadableAnswer (HTML page in a 200, truncated XML,
      (HTML, truncated, wrong encoding)                    empty body, wrong encoding declaration): parked
    answer with a DTD / entity / external   FORBIDDEN      ForbiddenXml (entity bomb, XXE): parked
    redirect to a host not configured       (none)         RedirectRefused: parked; nothing sent there
    HTTP 401                                REAUTH         log in again, retry once, then AuthenticationFailed
    HTTP 408                                TIMEOUT        RemoteTimeout
    HTTP 429                                SLOW_DOWN      RateLimited(retry_after=Retry-After)
    HTTP other 4xx                          PERMANENT      RemoteRejected(status_code, remote_message)
    HTTP 5xx                                RETRY          RemoteUnavailable(status_code)
    SOAP fault Client / Sender              PERMANENT      RemoteRejected(fault_code, remote_message)
    SOAP fault Server / Receiver            RETRY          RemoteUnavailable
    SOAP fault FailedAuthentication, ...    REAUTH         retry once, then AuthenticationFailed
    SOAP fault, any other code              PERMANENT      RemoteRejected
    SOAP fault the vendor profile names     (its meaning)  by ``faults`` (detail code, fault code, text):
      auth / not_found / park / retry       AUTH_FAILED    AuthenticationFailed at once (no retry, circuit closed)
                                            NOT_FOUND      RemoteNotFound: a look-up's "none", else parked
                                            PERMANENT      RemoteRejected
                                            RETRY          RemoteUnavailable
    portal error_code "0" / "00"            OK             (accepted)
    portal error_code in ``reauth_codes``   REAUTH         log in again, retry once, then AuthenticationFailed
    portal error_code in ``retry_codes``    RETRY          RemoteUnavailable
    portal error_code, any other            PERMANENT      RemoteRejected(error_code, remote_message)
    a feed entry without code / revision /  (one entry)    UnreadableEntry(field_path): left out of its page
      readable time                                        as a FeedProblem, the rest of the page read on

The portal rows apply to answers that arrive with HTTP 200: that is the override point for portals that report
errors inside a successful body (:data:`BodyCheck`). Which codes count as accepted, as an expired session or as a
transient failure is configuration (``System.options``), because no official specification is public.
The remote's own message is kept verbatim in ``remote_message`` up to :attr:`Bounds.error_text_max` characters: it
is usually Vietnamese and it is what the administrator needs to read; an HTML error page (IIS's "Server Error in '/'
Application") is kept as its readable text (:func:`readable_text`), never its style sheet. Where an error arises
decides its class: only a failure to get a whole answer (transport, deadline, 5xx, 429) may be retried; a complete
answer that cannot be read, or one over the size cap, is a problem of that record, so retrying it would fetch the
same bytes again.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from typing import Any, Protocol, TypeVar

import requests

from foundation.errors import ConfigurationError, HubError, PermanentError, RetryableError

T = TypeVar("T")


class RemoteUnavailable(RetryableError):
    """Raised when the remote system cannot be reached or answers with a server error."""

    error_class = "remote_unavailable"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        remote_message: str | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.status_code = status_code
        self.remote_message = remote_message


class CircuitOpen(RemoteUnavailable):
    """Raised before a call when the system's circuit is open: the call never left, so it says nothing new about the
    endpoint and does not count against the circuit."""


class RemoteTimeout(RetryableError):
    """Raised when the remote system does not answer within the configured timeout."""

    error_class = "remote_timeout"


class RateLimited(RetryableError):
    """Raised when the remote system asks us to slow down (HTTP 429)."""

    error_class = "rate_limited"

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.retry_after = retry_after


class RemoteRejected(PermanentError):
    """Raised when the remote system refuses a record; ``remote_message`` keeps its words verbatim."""

    error_class = "remote_rejected"

    def __init__(
        self,
        message: str,
        *,
        remote_message: str | None = None,
        status_code: int | None = None,
        error_code: str | None = None,
        fault_code: str | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.remote_message = remote_message
        self.status_code = status_code
        self.error_code = error_code
        self.fault_code = fault_code


class RemoteNotFound(RemoteRejected):
    """Raised when the remote says the record asked for does not exist; a look-up reads it as "none"."""


class UnreadableEntry(RemoteRejected):
    """Raised when an entry of a change feed lacks its dossier code, a whole revision or a readable change time;
    ``field_path`` names the vendor's element. The feed leaves the entry out and reads on."""

    error_class = "feed_entry_unreadable"

    def __init__(self, message: str, field_path: str, *, dossier_code: str | None = None) -> None:
        super().__init__(message, dossier_code=dossier_code)
        self.field_path = field_path


class AuthenticationFailed(PermanentError):
    """Raised when the remote refuses our credentials (after a fresh login, where one can help)."""

    error_class = "authentication_failed"

    def __init__(
        self,
        message: str,
        *,
        remote_message: str | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.remote_message = remote_message


class DeadlineExceeded(RetryableError):
    """Raised when a call (connect, send and the whole answer) does not finish within its overall deadline."""

    error_class = "deadline_exceeded"


class AnswerTooLarge(PermanentError):
    """Raised when an answer is larger than the system's size cap; reading stops at the cap. The same question gets
    the same answer again, so it is parked at once: the message names the cap and the system option that raises it."""

    error_class = "answer_too_large"


class UnreadableAnswer(PermanentError):
    """Raised when a complete answer cannot be parsed (not XML or JSON, truncated document, wrong encoding)."""

    error_class = "unreadable_answer"


class ForbiddenXml(PermanentError):
    """Raised when an answer holds a DTD, an entity declaration or an external reference (entity bomb, XXE)."""

    error_class = "forbidden_xml"


class RedirectRefused(ConfigurationError):
    """Raised when a remote redirects a call to a host its system's configuration does not list; nothing is sent
    there (neither the body nor the credentials), and retrying would meet the same redirect."""

    error_class = "redirect_refused"

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        location_host: str | None = None,
        dossier_code: str | None = None,
        target: str | None = None,
    ) -> None:
        super().__init__(message, dossier_code=dossier_code, target=target)
        self.status_code = status_code
        self.location_host = location_host


class Resolution(StrEnum):
    """What the caller must do about an answer."""

    OK = "ok"
    RETRY = "retry"
    TIMEOUT = "timeout"
    DEADLINE = "deadline"
    TOO_LARGE = "too_large"
    SLOW_DOWN = "slow_down"
    REAUTH = "reauth"
    AUTH_FAILED = "auth_failed"
    PERMANENT = "permanent"
    NOT_FOUND = "not_found"
    UNREADABLE = "unreadable"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Bounds:
    """How long a whole call may take, how large an answer may be, how much of a remote's error text is kept."""

    deadline: float = 60.0  # seconds for connect + send + the whole answer
    max_answer_bytes: int = 4 * 1024 * 1024
    error_text_max: int = 500  # characters of a remote's error text kept in messages and the log

    def cut(self, text: str | None) -> str | None:
        """``text`` as a person reads it (:func:`readable_text`), in at most ``error_text_max`` characters."""
        return readable_text(text, self.error_text_max)


DEFAULT_BOUNDS = Bounds()


@dataclass(frozen=True, slots=True)
class Verdict:
    """A classified answer with the context the resulting error keeps."""

    resolution: Resolution
    status_code: int | None = None
    error_code: str | None = None
    fault_code: str | None = None
    remote_message: str | None = None
    retry_after: float | None = None

    @property
    def ok(self) -> bool:
        return self.resolution is Resolution.OK


# A portal that reports errors inside an HTTP 200 body gets one of these: given the decoded body, it returns the
# verdict (``OK`` when the body says success). It is the single override point per transport variant.
BodyCheck = Callable[[Any], Verdict]


@dataclass(frozen=True, slots=True)
class ErrorTable:
    """The classification table; ``with_codes`` adjusts the portal rows from a system's options."""

    http: Mapping[int, Resolution] = field(
        default_factory=lambda: {401: Resolution.REAUTH, 408: Resolution.TIMEOUT, 429: Resolution.SLOW_DOWN}
    )
    # By hundreds, for every status not listed in ``http``.
    http_classes: Mapping[int, Resolution] = field(
        default_factory=lambda: {
            2: Resolution.OK,
            3: Resolution.PERMANENT,
            4: Resolution.PERMANENT,
            5: Resolution.RETRY,
        }
    )
    # SOAP fault codes by local name (``soap:Client`` → ``Client``; WS-Security codes included).
    faults: Mapping[str, Resolution] = field(
        default_factory=lambda: {
            "Client": Resolution.PERMANENT,
            "Sender": Resolution.PERMANENT,
            "Server": Resolution.RETRY,
            "Receiver": Resolution.RETRY,
            "FailedAuthentication": Resolution.REAUTH,
            "InvalidSecurityToken": Resolution.REAUTH,
            "MessageExpired": Resolution.REAUTH,
        }
    )
    fault_default: Resolution = Resolution.PERMANENT
    accepted_codes: frozenset[str] = frozenset({"0", "00"})
    reauth_codes: frozenset[str] = frozenset()
    retry_codes: frozenset[str] = frozenset()

    def http_status(self, status: int) -> Resolution:
        return self.http.get(status) or self.http_classes.get(status // 100, Resolution.PERMANENT)

    def fault(self, code: str | None) -> Resolution:
        local = (code or "").rsplit(":", 1)[-1].split(".", 1)[0]
        return self.faults.get(local, self.fault_default)

    def error_code(self, code: object) -> Resolution:
        text = "" if code is None else str(code).strip()
        if text in self.accepted_codes:
            return Resolution.OK
        if text in self.reauth_codes:
            return Resolution.REAUTH
        if text in self.retry_codes:
            return Resolution.RETRY
        return Resolution.PERMANENT

    def with_codes(
        self,
        *,
        accepted: Iterable[str] | None = None,
        reauth: Iterable[str] | None = None,
        retry: Iterable[str] | None = None,
    ) -> ErrorTable:
        """A copy whose portal rows take the codes a system's options give (None keeps the table's own)."""

        def codes(given: Iterable[str] | None, default: frozenset[str]) -> frozenset[str]:
            return default if given is None else frozenset(str(c) for c in given)

        return replace(
            self,
            accepted_codes=codes(accepted, self.accepted_codes),
            reauth_codes=codes(reauth, self.reauth_codes),
            retry_codes=codes(retry, self.retry_codes),
        )


DEFAULT_TABLE = ErrorTable()


@dataclass(frozen=True, slots=True)
class SoapFault:
    """A SOAP fault as it came: ``code`` (1.1 ``faultcode``, 1.2 ``Code/Value``), the 1.2 subcodes, the reason text
    (``faultstring``, ``Reason/Text``) and the vendor's code read from the detail element."""

    code: str | None
    subcodes: tuple[str, ...] = ()
    reason: str | None = None
    detail_code: str | None = None

    @property
    def codes(self) -> tuple[str, ...]:
        """Every code and subcode by local name (``soap:Client.XacThuc`` → ``Client.XacThuc``)."""
        return tuple(c.rsplit(":", 1)[-1].rsplit("}", 1)[-1] for c in (self.code, *self.subcodes) if c)


class FaultRules(Protocol):
    """A vendor's declared faults (``mappings.vendors.Faults``): what one means, or None when it is not declared."""

    def meaning(self, *, codes: Sequence[str], reason: str, detail: str | None) -> str | None: ...


# A vendor's word for a fault (its profile's ``faults``) → what the caller must do.
FAULT_MEANINGS: Mapping[str, Resolution] = {
    "retry": Resolution.RETRY,
    "reauth": Resolution.REAUTH,
    "auth": Resolution.AUTH_FAILED,
    "permanent": Resolution.PERMANENT,
    "park": Resolution.PERMANENT,
    "not_found": Resolution.NOT_FOUND,
}


def fault_verdict(fault: SoapFault, rules: FaultRules, table: ErrorTable = DEFAULT_TABLE) -> Verdict:
    """Classify a SOAP fault: by what the vendor's profile declares, else by its code in the table."""
    meaning = rules.meaning(codes=fault.codes, reason=fault.reason or "", detail=fault.detail_code)
    resolution = FAULT_MEANINGS[meaning] if meaning is not None else table.fault(fault.code)
    return Verdict(
        resolution,
        error_code=fault.detail_code,
        fault_code=fault.code or None,
        remote_message=fault.reason or None,
    )


def to_error(verdict: Verdict, *, system: str, operation: str, dossier_code: str | None = None) -> HubError:
    """The hub error a non-OK verdict stands for; the message names the system, the operation and the dossier."""
    where = f"{system}.{operation}"
    status = f"HTTP {verdict.status_code}" if verdict.status_code else ""
    reason = verdict.error_code or verdict.fault_code or ""
    code = verdict.error_code or verdict.fault_code or status
    with_code = f" (mã {code})" if code else ""
    match verdict.resolution:
        case Resolution.RETRY:
            return RemoteUnavailable(
                f"Hệ thống {system} tạm thời không phục vụ được ({operation}, {status or reason}) "
                f"/ {where} is unavailable, will retry",
                status_code=verdict.status_code,
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.TIMEOUT:
            return RemoteTimeout(
                f"Hệ thống {system} không trả lời kịp ({operation}) / {where} timed out",
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.SLOW_DOWN:
            wait = f", thử lại sau {verdict.retry_after:g} giây" if verdict.retry_after is not None else ""
            return RateLimited(
                f"Hệ thống {system} yêu cầu giảm tốc độ gửi{wait} / {where} rate limited (429)",
                retry_after=verdict.retry_after,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.REAUTH:
            return AuthenticationFailed(
                f"Hệ thống {system} từ chối thông tin đăng nhập kể cả sau khi đăng nhập lại ({operation}) "
                f"/ {where} refused our credentials after a fresh login",
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.AUTH_FAILED:
            return AuthenticationFailed(
                f"Hệ thống {system} từ chối thông tin xác thực{with_code}: kiểm tra tài khoản của hệ thống "
                f"/ {where} refused our credentials ({operation})",
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.NOT_FOUND:
            return RemoteNotFound(
                f"Hệ thống {system} không có hồ sơ được hỏi ({operation}){with_code} / {where}: no such record",
                remote_message=verdict.remote_message,
                status_code=verdict.status_code,
                error_code=verdict.error_code,
                fault_code=verdict.fault_code,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.PERMANENT:
            return RemoteRejected(
                f"Hệ thống {system} từ chối yêu cầu {operation}{with_code} / {where} rejected the request",
                remote_message=verdict.remote_message,
                status_code=verdict.status_code,
                error_code=verdict.error_code,
                fault_code=verdict.fault_code,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.DEADLINE:
            return DeadlineExceeded(
                f"Hệ thống {system} không trả lời xong trong thời hạn ({operation}) "
                f"/ {where} did not complete within its deadline, will retry",
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.TOO_LARGE:
            return AnswerTooLarge(
                f"Câu trả lời của {system} quá lớn ({operation}): {verdict.remote_message}; nếu câu trả lời này là "
                f"đúng, tăng options.max_answer_bytes của {system} rồi chạy lại / {where} answered more than the "
                "size cap: raise the system's options.max_answer_bytes if the answer is genuine, then replay",
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.UNREADABLE:
            return UnreadableAnswer(
                f"Không đọc được câu trả lời của {system} ({operation}, {status or 'không rõ mã'}) "
                f"/ {where} answered something that cannot be parsed",
                remote_message=verdict.remote_message,
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.FORBIDDEN:
            return ForbiddenXml(
                f"{system} trả về XML có DTD/thực thể/tham chiếu ngoài bị cấm ({operation}) "
                f"/ {where} answered XML with a forbidden DTD, entity or external reference",
                dossier_code=dossier_code,
                target=system,
            )
        case Resolution.OK:
            raise ValueError("an accepted answer is not an error")


class ReauthRequired(AuthenticationFailed):
    """Raised inside a connector when the remote wants a fresh login; :func:`with_reauth` retries once.

    It subclasses :class:`AuthenticationFailed` so that, should it ever escape, the hub still parks the message.
    """

    error_class = "authentication_failed"


def with_reauth(call: Callable[[], T], reauthenticate: Callable[[], None]) -> T:
    """Run ``call``; when it needs a fresh login, log in again and run it once more, then give up."""
    try:
        return call()
    except ReauthRequired:
        reauthenticate()
    try:
        return call()
    except ReauthRequired as exc:
        raise AuthenticationFailed(
            exc.message, remote_message=exc.remote_message, dossier_code=exc.dossier_code, target=exc.target
        ) from exc


def raise_for(verdict: Verdict, *, system: str, operation: str, dossier_code: str | None = None) -> None:
    """Raise the hub error for a non-OK verdict (a :class:`ReauthRequired` for REAUTH); return on OK."""
    if verdict.ok:
        return
    error = to_error(verdict, system=system, operation=operation, dossier_code=dossier_code)
    if verdict.resolution is Resolution.REAUTH:
        raise ReauthRequired(
            error.message, remote_message=verdict.remote_message, dossier_code=dossier_code, target=system
        )
    raise error


def http_verdict(
    table: ErrorTable, response: requests.Response, *, now: Callable[[], datetime] | None = None
) -> Verdict:
    """Classify an HTTP answer by its status (the body of a 200 is the :data:`BodyCheck`'s business)."""
    resolution = table.http_status(response.status_code)
    retry_after = retry_after_seconds(response.headers.get("Retry-After"), now) if resolution == "slow_down" else None
    message = None if resolution is Resolution.OK else _short_text(response)
    return Verdict(resolution, status_code=response.status_code, remote_message=message, retry_after=retry_after)


def retry_after_seconds(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Retry-After as seconds: either delta-seconds or an HTTP date (RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = now() if now else datetime.now(when.tzinfo)
    return max(0.0, (when - current).total_seconds())


_XML_HAZARDS = (b"<!DOCTYPE", b"<!ENTITY", b"<!doctype", b"<!entity")
_HTML = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?<(!doctype\s+html|html)[\s>]", re.IGNORECASE)


def unreadable_verdict(content: bytes, status_code: int | None, what: str) -> Verdict:
    """A complete answer that could not be parsed: forbidden XML when it declares a DTD or entities (an entity bomb
    is refused by libxml2 as a syntax error, so its bytes, not the parser's message, say what it is), else
    unreadable (a gateway's HTML page has a doctype too, but is only unreadable)."""
    head = content[:65536]
    if not _HTML.match(head) and any(marker in head for marker in _XML_HAZARDS):
        return Verdict(Resolution.FORBIDDEN, status_code=status_code, remote_message="DTD/ENTITY")
    return Verdict(Resolution.UNREADABLE, status_code=status_code, remote_message=what)


def transport_verdict(exc: requests.RequestException) -> Verdict:
    """Classify a failure to get any answer at all."""
    if isinstance(exc, requests.Timeout):
        return Verdict(Resolution.TIMEOUT, remote_message=type(exc).__name__)
    return Verdict(Resolution.RETRY, remote_message=type(exc).__name__)


def from_transport(exc: requests.RequestException, *, system: str, operation: str) -> HubError:
    """The hub error for a requests failure that got no HTTP answer; callers ``raise ... from exc``."""
    if isinstance(exc, requests.exceptions.InvalidURL | requests.exceptions.MissingSchema):
        return ConfigurationError(
            f"Địa chỉ của hệ thống {system} không hợp lệ / {system} has an invalid URL ({type(exc).__name__})",
            target=system,
        )
    return to_error(transport_verdict(exc), system=system, operation=operation)


# HTML's own tags only: a fault's text that names an element (``<MaHoSo>`` is missing) is not a page.
_MARKUP = re.compile(
    r"<(?:!--|!doctype\s+html\b|/?(?:html|head|body|title|style|script|div|span|p|br|hr|b|i|h[1-6]|table|pre|font|center)"
    r"\b[^<>]*>)",
    re.IGNORECASE,
)
_TITLE = re.compile(r"<title\b[^>]*>(.*?)</title\s*>", re.IGNORECASE | re.DOTALL)
# What a browser does not show: comments (IIS puts the stack trace in one), the head with its style sheet, scripts.
_HIDDEN = re.compile(r"<!--.*?(?:-->|$)|<(head|style|script)\b[^>]*>.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
_TAGS = re.compile(r"<[^>]*>")
_MARKUP_READ = 256 * 1024  # characters of a page read for its text; an error page's message is near its top


def readable_text(text: str | None, limit: int = 500) -> str | None:
    """What a person reads of a remote's error text, in at most ``limit`` characters (ending "…" when cut).

    An HTML page (IIS's "Server Error in '/' Application", a gateway's error page) becomes its title and the
    text a browser shows, without style sheet, scripts, comments or tags, entities decoded, whitespace folded; text
    without markup is kept as it came (a fault's Vietnamese reason, verbatim).
    """
    if not text:
        return None
    if _MARKUP.search(text, 0, _MARKUP_READ):
        page = text[:_MARKUP_READ]
        found = _TITLE.search(page)
        title = " ".join(html.unescape(_TAGS.sub(" ", found.group(1))).split()) if found else ""
        shown = " ".join(html.unescape(_TAGS.sub(" ", _HIDDEN.sub(" ", page))).split())
        text = f"{title}: {shown}" if title and shown and not shown.startswith(title) else shown or title
        if not text:
            return None
    if len(text) <= limit:
        return text
    return text[: limit - 1] + "…"


def _short_text(response: requests.Response, limit: int = 500) -> str | None:
    """The start of an error body as a person reads it: enough for an administrator to recognise it."""
    # Without a declared charset requests assumes ISO-8859-1 for text/*; Vietnamese portals write UTF-8.
    declared = "charset=" in response.headers.get("Content-Type", "").lower()
    try:
        text = response.content.decode(response.encoding if declared and response.encoding else "utf-8", "replace")
    except LookupError:
        return None
    return readable_text(" ".join(text[:_MARKUP_READ].split()), limit)
