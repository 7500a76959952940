"""One-stop-shop software that speaks JSON over HTTP: kind ``rest-json``.

Its API is described by a vendor profile with ``transport: json`` (``mappings/vendors/``): operations are URL
templates, response paths are dotted JSON paths, and the record is reshaped to the default one-stop-shop record
exactly as the SOAP kind's is, so the same mapping (``systems/motcua/mapping.py``) makes canonical dossiers of it.
It is a target too when the profile has an update operation (``"PUT /dossiers/{id}/status"`` and a JSON body shaped
by ``requests.update``): the liên thông updates of the copies its units hold.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar, Literal

from connectors.auth import AuthOptions, build_auth
from connectors.http import Endpoint
from foundation.credentials import credentials
from foundation.redaction import declare_personal
from foundation.settings import Settings
from foundation.topology import System
from systems import motcua
from systems.kind import SystemKind
from systems.motcua import mapping as motcua_mapping
from systems.restjson.connector import JsonConnector
from systems.vendor import VendorOptions


class RestJsonOptions(VendorOptions):
    """The vendor profile (``vendor`` / ``vendor_file``, ``transport: json``), the change-feed page size, how the
    vendor names units and how calls authenticate (``auth``: :mod:`connectors.auth`; HTTP Basic by default)."""

    transport: ClassVar[Literal["soap", "json"]] = "json"
    auth: AuthOptions = AuthOptions()


def build(system: System, settings: Settings, endpoint: Endpoint, options: RestJsonOptions) -> JsonConnector:
    vendor = options.profile()
    declare_personal(vendor.personal)
    secrets = credentials(system.credentials, settings) if system.credentials else None
    return JsonConnector(
        endpoint,
        vendor,
        build_auth(options.auth, secrets, base_url=endpoint.base_url, table=endpoint.table),
        page_size=options.page_size or (system.batch_size if system.batch_size > 1 else 100),
        units=options.units(settings),
    )


KINDS: Mapping[str, SystemKind] = {
    "rest-json": SystemKind(
        name="rest-json",
        options=RestJsonOptions,
        build=build,
        personal=motcua.PERSONAL,
        to_canonical=motcua.to_canonical,
        to_target=motcua.to_target,
        status_of=motcua_mapping.status_of,
    )
}
