"""The national public-service portal (Cổng DVCQG): kinds ``dvcqg-session``, ``dvcqg-url`` and ``dvcqg-lgsp``.

Three ways to reach the same portal (docs/domain/dvcqg-contract.md): a session adapter that logs in and posts
every service to one integration URL; one URL per operation with HTTP Basic; and the provincial LGSP gateway, an
OAuth2 bearer token in front of the session adapter. It is a national target: every dossier of the province goes
there, in batches, with the national procedure code (MaTTHC) filled from the procedure-code mapping.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from pydantic import Field

from connectors.errors import ErrorTable
from connectors.http import Endpoint
from foundation.credentials import credentials_for
from foundation.redaction import declare_personal
from foundation.settings import Settings
from foundation.topology import System
from mappings.canonical import Dossier, ProgressEntry
from mappings.procedures import ProcedureLookup
from systems.dvcqg import mapping as dvcqg
from systems.dvcqg.connector import (
    BasicAuth,
    ClientCredentials,
    DvcqgConnector,
    Layered,
    NoAuth,
    ServiceEnvelope,
    SessionLogin,
    UrlPerOperation,
)
from systems.dvcqg.connector import portal_body as portal_body_check
from systems.kind import Builder, Options, Outgoing, SystemKind

PERSONAL = frozenset(
    {
        "ChuHoSo",
        "SoGiayToChuHoSo",
        "MaDoiTuong",
        "Email",
        "Fax",
        "SoDienThoai",
        "ThongTinKhac",
        "DinhDanhCHS",
        "SoDinhDanh",
        "TrichYeuHoSo",
    }
)
# The portal's error codes (simulators/contracts/README.md): 11 = session invalid or expired, 99 = system error
# inside an HTTP 200. Unconfirmed against the real portal, hence overridable per system.
PORTAL_TABLE = ErrorTable(reauth_codes=frozenset({"11"}), retry_codes=frozenset({"99"}))
# The URL-per-operation portal was seen answering "3" and "-3" for accepted records.
URL_TABLE = replace(PORTAL_TABLE, accepted_codes=frozenset({"0", "00", "3", "-3"}))
DEFAULT_URL_PATHS = {
    "DongBoHoSoMC": "/hoso/create",
    "DongBoHoSoMC.update": "/hoso/update",
    "CapNhatTienDoHoSoMC": "/hoso/progress",
    "TraCuuHoSo": "/hoso/{mahoso}",
}
# Fields the hub sends for bookkeeping that the portal does not echo back in a look-up.
NOT_ECHOED = frozenset({"PhienBanNguon"})


class SessionOptions(Options):
    auth_path: str = "/auth"
    integration_path: str = "/integration"
    caller_unit: str | None = None  # the unit the hub calls as, when the portal wants one
    unit_header: str = "dstcode"


class UrlOptions(Options):
    paths: dict[str, str] = Field(
        default_factory=dict
    )  # service → path, over DEFAULT_URL_PATHS; TraCuuHoSo takes {mahoso}
    caller_unit: str | None = None


class LgspOptions(Options):
    token_path: str = "/token"  # noqa: S105 - a URL path, not a password
    auth_path: str = "/dvcqg/auth"
    integration_path: str = "/dvcqg/integration"
    scope: str | None = None
    token_leeway: float = 30.0  # seconds before expiry a token is renewed
    caller_unit: str | None = None


def to_target(
    dossier: Dossier, new_progress: Sequence[ProgressEntry], unit_code: str | None, procedures: ProcedureLookup
) -> Outgoing:
    """The portal's record (with its national procedure code) and the progress entries it has not seen."""
    dossier = dvcqg.with_national_code(dossier, procedures)
    return Outgoing(
        record=dvcqg.to_portal(dossier, source_version=True),
        progress=dvcqg.progress_to_portal(dossier, new_progress),
    )


def build_session(system: System, settings: Settings, endpoint: Endpoint, options: SessionOptions) -> DvcqgConnector:
    body_check = portal_body_check(endpoint.table)
    auth = SessionLogin(
        endpoint.base_url + options.auth_path,
        credentials_for(system, settings),
        caller_unit=options.caller_unit,
        unit_header=options.unit_header,
        body_check=body_check,
        table=endpoint.table,
    )
    return DvcqgConnector(
        endpoint,
        auth,
        ServiceEnvelope(endpoint.base_url + options.integration_path),
        body_check=body_check,
        batch_size=system.batch_size,
        caller_unit=options.caller_unit,
        unit_header=options.unit_header,
    )


def build_url(system: System, settings: Settings, endpoint: Endpoint, options: UrlOptions) -> DvcqgConnector:
    auth = BasicAuth(credentials_for(system, settings)) if system.credentials else NoAuth()
    return DvcqgConnector(
        endpoint,
        auth,
        UrlPerOperation(endpoint.base_url, {**DEFAULT_URL_PATHS, **options.paths}),
        batch_size=system.batch_size,
        caller_unit=options.caller_unit,
    )


def build_lgsp(system: System, settings: Settings, endpoint: Endpoint, options: LgspOptions) -> DvcqgConnector:
    creds = credentials_for(system, settings)
    gateway = ClientCredentials(
        endpoint.base_url + options.token_path,
        creds,
        leeway=options.token_leeway,
        scope=options.scope,
        table=endpoint.table,
    )
    # Behind the gateway sits the portal's session adapter: a bearer token to pass, then the portal's session.
    portal = SessionLogin(
        endpoint.base_url + options.auth_path,
        creds,
        caller_unit=options.caller_unit,
        body_check=portal_body_check(endpoint.table),
        table=endpoint.table,
    )
    return DvcqgConnector(
        endpoint,
        Layered(gateway, portal),
        ServiceEnvelope(endpoint.base_url + options.integration_path),
        batch_size=system.batch_size,
        caller_unit=options.caller_unit,
    )


declare_personal(PERSONAL)


def _kind(name: str, options: type[Options], build: Builder, table: ErrorTable) -> SystemKind:
    return SystemKind(
        name=name,
        options=options,
        build=build,
        personal=PERSONAL,
        to_target=to_target,
        status_of=dvcqg.status_of,
        national=True,
        batches=True,
        not_echoed=NOT_ECHOED,
        error_table=table,
    )


KINDS: Mapping[str, SystemKind] = {
    "dvcqg-session": _kind("dvcqg-session", SessionOptions, build_session, PORTAL_TABLE),
    "dvcqg-url": _kind("dvcqg-url", UrlOptions, build_url, URL_TABLE),
    "dvcqg-lgsp": _kind("dvcqg-lgsp", LgspOptions, build_lgsp, PORTAL_TABLE),
}
