"""The apology letter for a late dossier (Phiếu xin lỗi và hẹn lại ngày trả kết quả, form 04 of Circular
01/2018/TT-VPCP under Decree 61/2018 as amended by Decree 107/2021), pre-filled from the dossier and rendered from an
editable Word template with docxtpl.

The letter names the applicant, so it is for operators only and nothing of it is logged. Its fields, as the form
lays them out: the managing body and the issuing unit, the number (left for the clerk's register), place and date,
the applicant (Kính gửi), the received date, the procedure, the dossier code, the appointment given at receipt (hour
and day), the reason and the unit where the delay was made, the new appointment, the signer's title and the
recipients. A field the hub does not know (no new appointment yet, no reason) is left dotted for the clerk to write.
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Final

from docxtpl import DocxTemplate
from pydantic import BaseModel, ConfigDict

from foundation.clock import VN_TZ
from foundation.topology import Topology
from reports.labels import committee, place_name
from reports.places import Placer
from reports.register import Facts, LetterState, RegisterRow, received_on

TEMPLATE: Final = Path(__file__).with_name("templates") / "phieu-xin-loi.docx"
BLANK: Final = "…………"
NATION: Final = "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM"
MOTTO: Final = "Độc lập - Tự do - Hạnh phúc"
TITLE: Final = "PHIẾU XIN LỖI VÀ HẸN LẠI NGÀY TRẢ KẾT QUẢ"


class Letter(BaseModel):
    """Every field of the form, as text ready to print."""

    model_config = ConfigDict(frozen=True)

    dossier_code: str
    state: LetterState
    managing_body: str  # TÊN CƠ QUAN CHỦ QUẢN: the people's committee above the issuing one ("" for a province)
    issuing_unit: str  # TÊN CƠ QUAN, ĐƠN VỊ: the unit that received the dossier and answers to the applicant
    issuing_unit_name: str  # the same as the body names it: "UBND xã Tam Xuân"
    number: str  # Số: …/PXL
    place: str
    day: str
    month: str
    year: str
    applicant: str  # Kính gửi
    received_on: str
    procedure: str
    first_appointment: str  # "10 giờ 00, ngày 12/10/2023": the appointment given at receipt
    reason: str
    delay_unit: str  # where the delay was made
    new_appointment: str
    signer: str
    recipients: tuple[str, ...]


def letter(facts: Facts, row: RegisterRow, topology: Topology, *, today: date) -> Letter:
    """The letter of the late dossier ``row`` (its register row) from its facts; dated its apology's issue day when
    one was sent, else ``today`` (a draft)."""
    dossier = facts.dossier
    placer = Placer(topology, today)
    received = received_on(dossier)
    issuer = placer.place(dossier.receiving_unit, received)
    managing = committee(placer.unit(issuer.ancestors[0]).name) if issuer.ancestors else ""
    province = placer.unit(issuer.ancestors[-1]).name if issuer.ancestors else issuer.name
    latest = row.extensions[-1] if row.extensions else None
    dated = latest.issued_at.astimezone(VN_TZ).date() if latest is not None and latest.issued_at else today
    first = _first(facts, row)
    delay_code = (latest.unit_code if latest is not None else None) or row.delay_unit
    delay_unit = placer.place(delay_code, received).name if delay_code else issuer.name
    new = latest.new_appointment if latest is not None else _moved(row)
    return Letter(
        dossier_code=dossier.code,
        state=row.letter_state,
        managing_body=managing.upper(),
        issuing_unit=committee(issuer.name).upper(),
        issuing_unit_name=committee(issuer.name),
        number=f"{BLANK}/PXL",
        place=place_name(province),
        day=f"{dated.day:02d}",
        month=f"{dated.month:02d}",
        year=str(dated.year),
        applicant=dossier.applicant.name,
        received_on=f"{received:%d/%m/%Y}",
        procedure=dossier.procedure_name,
        first_appointment=first,
        reason=(latest.reason if latest is not None and latest.reason else None) or row.delay_step or BLANK,
        delay_unit=delay_unit,
        new_appointment=f"{new:%d/%m/%Y}" if new is not None else BLANK,
        signer="THỦ TRƯỞNG CƠ QUAN, ĐƠN VỊ",
        recipients=("Như trên;", f"{delay_unit} (để biết);", "Lưu: VT, Bộ phận Một cửa."),
    )


def render(item: Letter, path: Path, template: Path = TEMPLATE) -> Path:
    """Write the letter to ``path`` (.docx, A4, printable) from ``template`` and return it."""
    document = DocxTemplate(str(template))
    document.render(item.model_dump(mode="json") | {"nation": NATION, "motto": MOTTO, "title": TITLE})
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def _first(facts: Facts, row: RegisterRow) -> str:
    """The appointment given at receipt with its hour when the hub knows it, as the form asks."""
    moment: datetime | None = facts.first_appointment
    if moment is not None and moment.astimezone(VN_TZ).date() == row.first_appointment:
        local = moment.astimezone(VN_TZ)
        return f"{local:%H} giờ {local:%M}, ngày {local:%d/%m/%Y}"
    return f"ngày {row.first_appointment:%d/%m/%Y}"


def _moved(row: RegisterRow) -> date | None:
    """A draft's new appointment: the current one if the source already moved it past the first, else unknown."""
    current = row.current_appointment
    return current if current is not None and current > row.first_appointment else None
