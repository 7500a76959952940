"""The one-stop-shop software (Một cửa điện tử) over SOAP: kind ``soap``.

Its contract is described by a vendor profile (``mappings/vendors/``), so that a vendor's own operation and element
names are configuration. It is a source (its change feed and dossiers) and a target (status updates of the copies
other units hold).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from connectors.base import RawRecord
from connectors.http import Endpoint
from foundation.credentials import credentials_for
from foundation.errors import ConfigurationError
from foundation.redaction import declare_personal
from foundation.settings import Settings
from foundation.topology import System
from mappings.canonical import Dossier, ProgressEntry
from mappings.procedures import ProcedureLookup
from systems.kind import Outgoing, SystemKind
from systems.motcua import mapping as motcua
from systems.motcua.connector import SoapConnector
from systems.vendor import VendorOptions

# The applicant's fields in the default contract (ChuHoSo is the applicant as a whole).
PERSONAL = frozenset(
    {
        "ChuHoSo",
        "HoTen",
        "SoGiayTo",
        "Email",
        "Fax",
        "SoDienThoai",
        "DiaChi",
        "ThongTinKhac",
        "SoDinhDanh",
        "TrichYeu",
        # free text: the note, a file (its name), what a supplement or a step says (an apology's reason), the papers
        # asked for
        "GhiChu",
        "TepDinhKem",
        "NoiDung",
        "GiayTo",
        "ThongTinTiepNhan",
    }
)


class SoapOptions(VendorOptions):
    """The vendor profile (``vendor`` / ``vendor_file``), and how to reach and read the SOAP service."""

    wsdl: str | None = None  # the WSDL's location, when it is not ``base_url?wsdl``
    password_digest: bool = False  # WS-Security PasswordDigest instead of PasswordText
    strict: bool = True  # zeep's strict parsing of answers


def to_canonical(raw: RawRecord, procedures: ProcedureLookup) -> Dossier:
    return motcua.to_canonical(raw, procedures=procedures)


def to_target(
    dossier: Dossier, new_progress: Sequence[ProgressEntry], unit_code: str | None, procedures: ProcedureLookup
) -> Outgoing:
    """A status update for ``unit_code``'s copy, carrying only the progress entries it has not seen."""
    if unit_code is None:
        raise ConfigurationError("Đích một cửa cần mã đơn vị (a one-stop-shop target needs a unit)")
    only_new = dossier.model_copy(update={"progress": tuple(new_progress)})
    sender = dossier.processing_unit if dossier.processing_unit != unit_code else None
    return Outgoing(record=motcua.to_status_update(only_new, unit_code=unit_code, sender_unit=sender))


def build(system: System, settings: Settings, endpoint: Endpoint, options: SoapOptions) -> SoapConnector:
    vendor = options.profile()
    declare_personal(vendor.personal)
    connector = SoapConnector(
        endpoint,
        vendor,
        credentials_for(system, settings),
        wsdl=options.wsdl,
        use_digest=options.password_digest,
        page_size=options.page_size or (system.batch_size if system.batch_size > 1 else 100),
        strict=options.strict,
    )
    connector.units = options.units(settings)  # the feed and dossier requests, and the records read (#21)
    return connector


declare_personal(PERSONAL)

KINDS: Mapping[str, SystemKind] = {
    "soap": SystemKind(
        name="soap",
        options=SoapOptions,
        build=build,
        personal=PERSONAL,
        to_canonical=to_canonical,
        to_target=to_target,
        status_of=motcua.status_of,
    )
}
