"""How a call proves who we are, as configuration: one module for every HTTP system, source or target.

A system's ``options.auth`` names a scheme (:class:`AuthOptions`); :func:`build_auth` makes the strategy a connector
asks before each call (:class:`Auth`: ``authorize`` → headers and body fields, ``invalidate`` when the remote stopped
accepting them, ``secrets`` to scrub from anything recorded). Schemes:

- ``basic``: HTTP Basic with the credential store's username and password;
- ``oauth2``: OAuth2 client credentials (RFC 6749 §4.4): the client id and secret are the credential store's username
  and password; the token request and its answer are written and read by ``oauthlib`` (errors such as
  ``invalid_client`` included), the call itself goes through the system's :class:`Endpoint` like every other call
  (recorded redacted, bounded, behind the breaker). The token is kept per process, renewed ``leeway`` seconds before
  it expires, and dropped when the remote answers 401 so that the caller's one retry takes a fresh one: never a login
  per call;
- ``api_key``: the credential store's password in a header (``X-API-Key`` by default);
- ``none``.

Client certificates (mutual TLS) are the transport's: :class:`ClientTls`, a system's ``options.tls``, presented on
every call the system's :class:`Endpoint` makes, whatever the scheme above.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

import requests
from oauthlib.oauth2 import BackendApplicationClient, OAuth2Error
from pydantic import BaseModel, ConfigDict, Field, model_validator

from connectors.errors import AuthenticationFailed, ErrorTable, Resolution, http_verdict, raise_for
from connectors.http import Endpoint
from foundation.credentials import Credentials
from foundation.errors import ConfigurationError


@dataclass(frozen=True, slots=True)
class Authorized:
    """What a call must carry to be let in: headers and fields merged into the JSON body."""

    headers: Mapping[str, str] = field(default_factory=dict)
    fields: Mapping[str, Any] = field(default_factory=dict)


class Auth(Protocol):
    """How a call proves who we are; ``invalidate`` drops what the remote stopped accepting."""

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized: ...

    def invalidate(self, unit_code: str) -> None: ...

    def secrets(self) -> Iterable[str]: ...


class AuthOptions(BaseModel):
    """``options.auth`` of a system: the scheme and its settings (the secrets come from the credential store).

    ``token_url`` may be absolute or a path under the system's ``base_url``; ``client_auth``: how the client id and
    secret reach the token server (HTTP Basic, RFC 6749's recommended form, or form fields).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    type: Literal["basic", "oauth2", "api_key", "none"] = "basic"
    token_url: str | None = None
    scope: str | None = None
    audience: str | None = None
    leeway: float = Field(default=30.0, ge=0, description="seconds before expiry a token is renewed")
    client_auth: Literal["basic", "body"] = "basic"
    header: str = "X-API-Key"
    prefix: str = Field(default="", description="written before the key (``ApiKey ``), if the vendor wants one")

    @model_validator(mode="after")
    def _token_url_for_oauth2(self) -> AuthOptions:
        if self.type == "oauth2" and not self.token_url:
            raise ValueError("auth.type oauth2 needs auth.token_url (the token server's URL or a path under base_url)")
        return self


class ClientTls(BaseModel):
    """Mutual TLS: the client certificate every call presents (``options.tls``, any HTTP kind, SOAP or REST), and the
    CA bundle the server's certificate is checked against when it is not signed by a public CA."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    cert: str = Field(description="PEM file of the client certificate (with its key, unless key is given)")
    key: str | None = Field(default=None, description="PEM file of the certificate's private key")
    ca_bundle: str | None = Field(default=None, description="PEM file of the CAs that sign the server's certificate")

    @property
    def requests_cert(self) -> str | tuple[str, str]:
        return (self.cert, self.key) if self.key else self.cert

    @property
    def requests_verify(self) -> bool | str:
        return self.ca_bundle or True


class NoAuth:
    """Nothing to prove (a system behind a private network link, or a test)."""

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        return Authorized()

    def invalidate(self, unit_code: str) -> None:
        return None

    def secrets(self) -> Iterable[str]:
        return ()


class BasicAuth:
    """HTTP Basic on every call."""

    def __init__(self, credentials: Credentials) -> None:
        self.credentials = credentials

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        return Authorized(headers={"Authorization": basic_header(self.credentials)})

    def invalidate(self, unit_code: str) -> None:
        return None

    def secrets(self) -> Iterable[str]:
        return [self.credentials.password.get_secret_value()]


class ApiKey:
    """A key in a header on every call; the key is the credential store's password."""

    def __init__(self, credentials: Credentials, header: str = "X-API-Key", prefix: str = "") -> None:
        self.credentials = credentials
        self.header = header
        self.prefix = prefix

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        return Authorized(headers={self.header: self.prefix + self.credentials.password.get_secret_value()})

    def invalidate(self, unit_code: str) -> None:
        return None

    def secrets(self) -> Iterable[str]:
        return [self.credentials.password.get_secret_value()]


class ClientCredentials:
    """OAuth2 client credentials: a bearer token per process, renewed ``leeway`` seconds before it expires."""

    def __init__(
        self,
        token_url: str,
        credentials: Credentials,
        *,
        leeway: float = 30.0,
        scope: str | None = None,
        audience: str | None = None,
        client_auth: Literal["basic", "body"] = "basic",
        table: ErrorTable,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = token_url
        self.credentials = credentials
        self.leeway = leeway
        self.scope = scope
        self.audience = audience
        self.client_auth = client_auth
        self.table = table
        self._client = BackendApplicationClient(credentials.username)
        self._monotonic = monotonic
        self._token: str | None = None
        self._expires_at = 0.0
        self._lock = threading.RLock()  # secrets() is read while a token request holds it
        self.fetched = 0  # token requests made by this process: what "never a login per call" is checked by

    def authorize(self, endpoint: Endpoint, unit_code: str) -> Authorized:
        with self._lock:
            if self._token is None or self._monotonic() >= self._expires_at:
                self._token, lifetime = self._fetch(endpoint)
                self._expires_at = self._monotonic() + max(lifetime - self.leeway, 0.0)
            token = self._token
        return Authorized(headers={"Authorization": f"Bearer {token}"})

    def invalidate(self, unit_code: str) -> None:
        with self._lock:
            self._token = None

    def secrets(self) -> Iterable[str]:
        with self._lock:
            return [self.credentials.password.get_secret_value(), *([self._token] if self._token else [])]

    def _fetch(self, endpoint: Endpoint) -> tuple[str, float]:
        secret = self.credentials.password.get_secret_value()
        extra: dict[str, Any] = {"audience": self.audience} if self.audience else {}
        if self.client_auth == "body":
            extra["client_secret"] = secret
        body = self._client.prepare_request_body(
            scope=self.scope, include_client_id=self.client_auth == "body", **extra
        )
        headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
        if self.client_auth == "basic":
            headers["Authorization"] = basic_header(self.credentials)
        self.fetched += 1
        response = endpoint.send(
            "token",
            "POST",
            self.token_url,
            data=body.encode(),
            headers=headers,
            redacted_request="grant_type=client_credentials",
            redact_response=_redacted_token,
        )
        verdict = http_verdict(self.table, response)
        if verdict.resolution in (Resolution.RETRY, Resolution.TIMEOUT, Resolution.SLOW_DOWN):
            raise_for(verdict, system=endpoint.system, operation="token")
        try:
            token = self._client.parse_request_body_response(response.text)
        except OAuth2Error as exc:
            raise self._refused(endpoint, response, f"{exc.error}: {exc.description}") from exc
        except ValueError as exc:  # not JSON, or no token in it
            raise self._refused(endpoint, response, verdict.remote_message or str(exc)) from exc
        if not verdict.ok:
            raise self._refused(endpoint, response, verdict.remote_message)
        return str(token["access_token"]), float(token.get("expires_in") or 300)

    def _refused(self, endpoint: Endpoint, response: requests.Response, said: str | None) -> AuthenticationFailed:
        """The token server refused the client (a wrong secret, an unknown client or scope): asking again cannot
        help, so the message is parked at once, naming where the token was asked for."""
        return AuthenticationFailed(
            f"Máy chủ cấp token {self.token_url} từ chối client {self.credentials.username!r} của {endpoint.system} "
            f"(HTTP {response.status_code}): kiểm tra client id/secret trong kho thông tin đăng nhập và "
            f"options.auth / the token server {self.token_url} refused {endpoint.system}'s client credentials",
            remote_message=said,
            target=endpoint.system,
        )


def build_auth(options: AuthOptions, credentials: Credentials | None, *, base_url: str, table: ErrorTable) -> Auth:
    """The strategy ``options`` names; ConfigurationError when a scheme that needs credentials has none."""
    if options.type == "none":
        return NoAuth()
    if credentials is None:
        raise ConfigurationError(f"options.auth {options.type} cần credentials / needs the system's credentials")
    if options.type == "basic":
        return BasicAuth(credentials)
    if options.type == "api_key":
        return ApiKey(credentials, options.header, options.prefix)
    token_url = str(options.token_url)
    if not token_url.startswith(("http://", "https://")):
        token_url = base_url.rstrip("/") + "/" + token_url.lstrip("/")
    return ClientCredentials(
        token_url,
        credentials,
        leeway=options.leeway,
        scope=options.scope,
        audience=options.audience,
        client_auth=options.client_auth,
        table=table,
    )


def basic_header(credentials: Credentials) -> str:
    pair = f"{credentials.username}:{credentials.password.get_secret_value()}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


_TOKEN_KEYS = ("access_token", "refresh_token", "id_token")


def _redacted_token(response: requests.Response) -> str | None:
    """The token server's answer as recorded: the tokens replaced (they are not yet among the secrets scrubbed)."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"<{len(response.content)} bytes, not JSON>"
    if isinstance(body, dict):
        body = {k: "***" if k in _TOKEN_KEYS else v for k, v in body.items()}
    return json.dumps(body, ensure_ascii=False)
