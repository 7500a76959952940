"""The canonical dossier: one pydantic model every system's records are mapped into and out of.

Field names are English; each docstring names the national portal's field (``docs/domain/dvcqg-contract.md``).
Every text is Unicode NFC with trimmed whitespace, every datetime is timezone-aware in Asia/Ho_Chi_Minh, and the
fields that hold personal data carry the :data:`~foundation.redaction.PERSONAL` marker, which the one redaction
module reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Final

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from foundation.clock import VN_TZ
from foundation.redaction import PERSONAL
from foundation.settings import Settings, get_settings
from foundation.text import (
    AGENCY_ID_PATTERN,
    CLEAN_NAME_PATTERN,
    CLEAN_TEXT_PATTERN,
    normalize_name,
    normalize_text,
)
from mappings.codes import ApplicantType, Channel, ReturnMethod, ServiceLevel, Status

SUMMARY_MAX = 999  # the portal wants TrichYeuHoSo "under 1000 characters"
HANDLER_MAX = 50  # NguoiXuLy


def to_vietnam_time(value: datetime) -> datetime:
    """The same instant expressed in Asia/Ho_Chi_Minh; the value is already known to be timezone-aware."""
    return value if value.tzinfo is VN_TZ else value.astimezone(VN_TZ)


def plausible_range(settings: Settings) -> tuple[datetime, datetime]:
    """The first and last instant a dossier date may hold (``date_min_year``..``date_max_year``)."""
    return (
        datetime(settings.date_min_year, 1, 1, tzinfo=VN_TZ),
        datetime(settings.date_max_year, 12, 31, 23, 59, 59, 999999, tzinfo=VN_TZ),
    )


EARLIEST, LATEST = plausible_range(get_settings())

# A text or a name is normalized (foundation.text); one already clean is recognised by pydantic's own regex and costs
# no Python call, any other takes the normalizer. A length applies to the normalized value either way.
Text = Annotated[
    Annotated[str, Field(pattern=CLEAN_TEXT_PATTERN)] | Annotated[str, AfterValidator(normalize_text)],
    Field(union_mode="left_to_right"),
]
Name = Annotated[
    Annotated[str, Field(pattern=CLEAN_NAME_PATTERN)] | Annotated[str, AfterValidator(normalize_name)],
    Field(union_mode="left_to_right"),
]
PersonalText = Annotated[Name, PERSONAL]
# Free text an official or the applicant typed (a note, a file's name, what a supplement asks for, why an apology):
# it names people often enough that a viewer never reads it; operators do.
FreeText = Annotated[Text, PERSONAL]
# Naive datetimes are refused: a mapping must say which timezone a source meant (see mappings.normalize). The bounds
# are pydantic's own constraints (no Python validator per field) and run before the conversion, so a date at the
# calendar's edge (0001-01-01, 9999-12-31) is refused as a validation problem and never overflows later.
VnDatetime = Annotated[AwareDatetime, Field(ge=EARLIEST, le=LATEST), AfterValidator(to_vietnam_time)]

_AGENCY_ID_RE: Final = re.compile(rf"^{AGENCY_ID_PATTERN}$")
_DOSSIER_CODE_RE: Final = re.compile(rf"^({AGENCY_ID_PATTERN})-(\d{{6}})-(\d{{4}})$")


@dataclass(frozen=True, slots=True)
class DossierCodeParts:
    """A dossier code taken apart: receiving agency, receipt date, the agency's counter for that day."""

    agency_id: str
    received_on: date
    counter: int

    def __str__(self) -> str:
        return f"{self.agency_id}-{self.received_on:%y%m%d}-{self.counter:04d}"


def parse_dossier_code(code: str) -> DossierCodeParts:
    """Split ``{agency id}-{yyMMdd}-{NNNN}``; ValueError names the part that is wrong."""
    match = _DOSSIER_CODE_RE.match(code)
    if match is None:
        agency = code.split("-", 1)[0]
        if not _AGENCY_ID_RE.match(agency):
            raise ValueError(
                f"mã định danh cơ quan {agency!r} sai định dạng V1V2V3.Z1Z2.Y1Y2.Hnn "
                f"(agency identifier is not in the form 000.00.00.H00)"
            )
        raise ValueError(
            f"mã hồ sơ {code!r} không theo mẫu {{mã cơ quan}}-{{yyMMdd}}-{{NNNN}} "
            f"(dossier code is not agency-yyMMdd-NNNN)"
        )
    agency_id, day, counter = match.groups()
    year = int(day[:2])
    try:  # %y as strptime reads it (69-99: 1900s), without strptime's cost
        received_on = date(year + (1900 if year >= 69 else 2000), int(day[2:4]), int(day[4:]))
    except ValueError as exc:
        raise ValueError(f"ngày {day!r} trong mã hồ sơ không tồn tại (no such date in the dossier code)") from exc
    if counter == "0000":
        raise ValueError("số thứ tự trong ngày bắt đầu từ 0001 (the daily counter starts at 0001)")
    return DossierCodeParts(agency_id, received_on, int(counter))


def _check_dossier_code(code: str) -> str:
    parse_dossier_code(code)
    return code


def _check_agency_id(value: str) -> str:
    if not _AGENCY_ID_RE.match(value):
        raise ValueError(f"mã định danh cơ quan {value!r} sai định dạng (agency identifier must be 000.00.00.H00)")
    return value


DossierCode = Annotated[str, AfterValidator(_check_dossier_code)]
AgencyId = Annotated[str, AfterValidator(_check_agency_id)]
UnitCode = Annotated[str, Field(pattern=r"^\d{1,6}$")]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", validate_default=False)


class Applicant(_Record):
    """The applicant (chủ hồ sơ). Required: ``name`` (the portal's ChuHoSo). ``kind`` is a citizen unless the vendor
    says otherwise (a vendor may write it only for organisations: a profile's ``{default: ...}``); the rest is
    optional contact data the portal takes when it is there."""

    name: PersonalText  # ChuHoSo (required: portal)
    kind: ApplicantType = ApplicantType.CITIZEN  # LoaiDoiTuong
    id_number: PersonalText | None = None  # SoGiayToChuHoSo
    portal_account_id: Annotated[str, PERSONAL] | None = None  # MaDoiTuong, online dossiers only
    email: PersonalText | None = None  # Email
    phone: PersonalText | None = None  # SoDienThoai
    fax: PersonalText | None = None  # Fax
    address: PersonalText | None = None  # ThongTinKhac (address and other contact data)
    vneid_verified: bool | None = None  # TaiKhoanDuocXacThucVoiVNeID


class SubmittedFile(_Record):
    """A file in the dossier (TaiLieuNop). Required: ``file_id`` and ``name``, which identify it. The portal requires
    none of the others: a vendor that keeps no component code or URL sends none, and a flag it does not keep is "no"
    (or a profile's ``{const: ...}``)."""

    file_id: Text  # TepDinhKemId
    name: PersonalText  # TenTepDinhKem
    component_code: Text | None = None  # MaThanhPhanHoSo
    url: Text | None = None  # DuongDanTaiTepTin
    deleted: bool = False  # IsDeleted
    digitised: bool = False  # DuocSoHoa
    reused: bool = False  # DuocTaiSuDung
    from_national_store: bool = False  # DuocLayTuKhoDMQG


class Fee(_Record):
    """A fee or charge (DanhSachLePhi)."""

    name: Name  # TenPhiLePhi
    code: Text | None = None  # MaPhiLePhi
    collection_method: Text | None = None  # HinhThucThu
    amount: Decimal = Field(ge=0)  # Gia, in VND
    kind: Text | None = None  # LoaiPhiLePhi


class OtherPaper(_Record):
    """Another paper handed in (DanhSachTepDinhKemKhac)."""

    name: Name  # TenGiayTo
    quantity: int = Field(default=1, ge=0)  # SoLuong
    kind: Text | None = None  # LoaiGiayTo


class SupplementRound(_Record):
    """A supplement round (DanhSachHoSoBoSung); an apology extension travels here as old and new appointment."""

    round_id: Text  # HoSoBoSungId
    requested_by: Name | None = None  # NguoiYeuCauBoSung
    content: FreeText | None = None  # NoiDungBoSung, an apology's reason too
    requested_at: VnDatetime | None = None  # NgayBoSung
    received_by: Name | None = None  # NguoiTiepNhanBoSung
    receipt_info: FreeText | None = None  # ThongTinTiepNhan
    received_at: VnDatetime | None = None  # NgayTiepNhanBoSung
    status: Text | None = None  # TrangThaiBoSung
    papers: tuple[PersonalText, ...] = ()  # DanhSachGiayToBoSung
    fees: tuple[Fee, ...] = ()  # DanhSachLePhiBoSung
    previous_appointment: VnDatetime | None = None  # NgayHenTraTruoc
    new_appointment: VnDatetime | None = None  # NgayHenTraMoi


class ResultPaper(_Record):
    """A result paper (DanhSachGiayToKetQua)."""

    name: Name  # TenGiayTo
    component_code: Text | None = None  # MaThanhPhanHoSo
    paper_id: Text | None = None  # GiayToId
    url: Text | None = None  # DuongDanTepTinKetQua
    result_code: Text | None = None  # MaGiayToKetQua


class ProgressEntry(_Record):
    """One processing step (CapNhatTienDoHoSoMC item)."""

    handler: Annotated[  # NguoiXuLy
        Annotated[str, Field(pattern=CLEAN_NAME_PATTERN, max_length=HANDLER_MAX)]
        | Annotated[str, AfterValidator(normalize_name), Field(max_length=HANDLER_MAX)],
        Field(union_mode="left_to_right"),
    ]
    title: Name | None = None  # ChucDanh
    at: VnDatetime  # ThoiDiemXuLy
    department: Name | None = None  # PhongBanXuLy
    content: Text  # NoiDungXuLy
    status: Status  # TrangThai
    step_started_at: VnDatetime | None = None  # NgayBatDau
    step_due_at: VnDatetime | None = None  # NgayKetThucTheoQuyDinh
    unit_code: UnitCode | None = None  # the unit whose system recorded the step (liên thông)

    @property
    def identity(self) -> tuple[datetime, Status, str, str]:
        """What makes two copies' entries the same step: when, which status, who, what was done."""
        return (self.at, self.status, self.handler, self.content)


class Dossier(_Record):
    """An administrative dossier (hồ sơ thủ tục hành chính) as the hub knows it.

    Required, because the portal requires it (MaHoSo, TenTTHC, KenhThucHien, ChuHoSo, TrangThaiHoSo:
    ``shared/domain/dvcqg-contract.md``): ``code``, ``procedure_name``, ``channel``, ``applicant``, ``status``; and
    because the hub needs it: ``receiving_unit`` (routing), ``local_procedure_code`` (mapped to the portal's MaTTHC),
    ``version`` and ``updated_at`` (which copy is newer). Everything else is optional: a vendor that does not keep a
    field sends nothing. The portal's conditional rule (NgayTiepNhan for statuses 2, 4, 5, 6, 8, 9, 10) is not
    repeated here: the portal refuses such a record itself (error 20), naming the field.
    """

    code: DossierCode  # MaHoSo, the business key of everything (required: portal)
    receiving_unit: UnitCode  # the unit that received it; kept forever, even after a merger (required: routing)
    processing_unit: UnitCode | None = None  # the unit now handling it, when another level (liên thông)
    local_procedure_code: Text  # the one-stop-shop's own procedure code (required: it gives the portal's MaTTHC)
    national_procedure_code: Text | None = None  # MaTTHC, filled from the procedure-code mapping
    procedure_name: Name  # TenTTHC (required: portal)
    field_code: Text | None = None  # MaLinhVuc
    field_name: Name | None = None  # TenLinhVuc
    service_level: ServiceLevel | None = None  # 4 fully online, 3 partly online
    receipt_number: Text | None = None  # SoBienNhan
    channel: Channel  # KenhThucHien (required: portal)
    applicant: Applicant  # ChuHoSo (required: portal)
    summary: Annotated[  # TrichYeuHoSo: often names the applicant
        Annotated[str, Field(pattern=CLEAN_TEXT_PATTERN, max_length=SUMMARY_MAX)]
        | Annotated[str, AfterValidator(normalize_text), Field(max_length=SUMMARY_MAX)],
        Field(union_mode="left_to_right"),
        PERSONAL,
    ] = ""
    status: Status  # TrangThaiHoSo (required: portal)
    submitted_at: VnDatetime | None = None  # NgayNopHoSo
    received_at: VnDatetime | None = None  # NgayTiepNhan
    appointment_at: VnDatetime | None = None  # NgayHenTra
    finished_at: VnDatetime | None = None  # NgayKetThucXuLy
    returned_at: VnDatetime | None = None  # NgayTra
    refused_at: VnDatetime | None = None  # NgayTuChoi
    return_info: FreeText | None = None  # ThongTinTra
    return_method: ReturnMethod | None = None  # HinhThuc
    processing_unit_name: Name | None = None  # DonViXuLy
    note: FreeText | None = None  # GhiChu
    submission_place: Text | None = None  # NoiNopHoSo
    paid_online: bool | None = None  # DuocThanhToanTrucTuyen
    files: tuple[SubmittedFile, ...] = ()
    fees: tuple[Fee, ...] = ()
    other_papers: tuple[OtherPaper, ...] = ()
    supplements: tuple[SupplementRound, ...] = ()
    results: tuple[ResultPaper, ...] = ()
    progress: tuple[ProgressEntry, ...] = ()
    version: int = Field(ge=1)  # the source's revision counter; a lower one is older (required: ordering)
    updated_at: VnDatetime  # when the source last changed the dossier (required: ordering)

    @property
    def agency_id(self) -> str:
        """The receiving agency's electronic identifier, read from the dossier code."""
        return self.code.split("-", 1)[0]
