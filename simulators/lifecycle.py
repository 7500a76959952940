"""The lifecycle engine: dossiers arrive at every unit and move through realistic paths over simulated time.

Paths: online submission then acceptance or refusal; processing with supplement rounds and payment requests;
transfer from a commune to the level above (liên thông); results and their return; withdrawals and stops; and a
share of late dossiers, most of them with an apology and a new appointment (a supplement round carrying
NgayHenTraTruoc / NgayHenTraMoi). Every status change goes through :func:`check_transition`, which allows only the
moves in :data:`ALLOWED` that also never regress (``mappings.codes.Status.may_follow``). Nothing sleeps: events sit
in a queue ordered by simulated time and :meth:`Lifecycle.advance` plays them.

A topology with a merger (units served by a system until ``valid_to``, with a ``successor``) is played across it: at
midnight after ``valid_to`` the retired units stop receiving dossiers, their copies move to the successor's system
(:meth:`simulators.motcua.OneStopShop.merge`), and the successor's officers carry on with them.
"""

from __future__ import annotations

import heapq
import math
import random
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from faker import Faker

from foundation.topology import Level, Topology, Unit
from mappings.codes import Status
from simulators.catalogue import Catalogue, Procedure
from simulators.clock import SimClock
from simulators.motcua import OneStopShop
from simulators.records import BoSung, ChuHoSo, GiayTo, HoSo, KetQua, LePhi, TepDinhKem, TienDo

S = Status
ALLOWED: dict[Status, frozenset[Status]] = {
    S.SUBMITTED: frozenset({S.ACCEPTED, S.REFUSED, S.WITHDRAWN}),
    S.ACCEPTED: frozenset({S.PROCESSING, S.WITHDRAWN}),
    S.PROCESSING: frozenset({S.PROCESSING, S.SUPPLEMENT_REQUIRED, S.PAYMENT_REQUIRED, S.DONE, S.STOPPED, S.WITHDRAWN}),
    S.SUPPLEMENT_REQUIRED: frozenset({S.SUPPLEMENT_REQUIRED, S.PROCESSING, S.WITHDRAWN, S.STOPPED}),
    S.PAYMENT_REQUIRED: frozenset({S.PAYMENT_REQUIRED, S.PROCESSING, S.WITHDRAWN}),
    S.DONE: frozenset({S.RETURNED}),
}
"""The moves a one-stop-shop allows; terminal statuses (3, 7, 8, 10) allow none."""

DEFAULT_DAILY: dict[Level, float] = {Level.PROVINCE: 6.0, Level.DISTRICT: 30.0, Level.COMMUNE: 8.0}
"""Dossiers received per unit per day, by level (Núi Thành's district received a few dozen a working day)."""

FILE_BASE = "https://motcua.quangnam.gov.vn/tep"


class IllegalTransition(RuntimeError):
    """Raised when the engine would make a move the one-stop-shop does not allow (a bug in the engine)."""


def check_transition(old: int, new: int) -> None:
    before, after = Status(old), Status(new)
    if after not in ALLOWED.get(before, frozenset()) or not after.may_follow(before):
        raise IllegalTransition(f"{before.value} → {after.value}")


@dataclass(frozen=True, slots=True)
class Officer:
    name: str
    title: str
    department: str


@dataclass(slots=True)
class _Life:
    """What the engine knows about one dossier beyond its record: where it is processed and what comes next."""

    code: str
    receiving: Unit
    processing: Unit
    procedure: Procedure
    late: bool
    steps: list[tuple[datetime, str]] = field(default_factory=list)
    new_appointment: datetime | None = None


@dataclass(slots=True)
class AdvanceReport:
    """What one call to advance did."""

    created: int = 0
    changes: int = 0
    until: datetime | None = None
    created_codes: list[str] = field(default_factory=list)
    moved: int = 0  # copies a merger moved to the successors' system


_Event = tuple[datetime, int, str, str]  # (when, tie-break, kind, dossier code or unit code)


class Lifecycle:
    """Creates dossiers at the topology's units and plays their lifecycles on the simulated clock."""

    def __init__(
        self,
        topology: Topology,
        catalogue: Catalogue,
        store: OneStopShop,
        clock: SimClock,
        seed: int,
        daily: dict[Level, float] | None = None,
    ) -> None:
        self.topology = topology
        self.catalogue = catalogue
        self.store = store
        self.clock = clock
        self.daily = dict(DEFAULT_DAILY if daily is None else daily)
        self.rng = random.Random(seed)
        self.faker = Faker("vi_VN")
        self.faker.seed_instance(seed)
        day = clock.now().date()
        self.units = self._served(day)
        if not self.units:
            raise ValueError(f"no unit of {topology.name} has a system on {day}")
        self._by_code = {u.code: u for u in self.units}
        self._officers = {u.code: self._make_officers(u) for u in self.units}
        self._by_level = {level: catalogue.at_level(level) for level in ("district", "commune")}
        self._inter_level = tuple(p for p in self._by_level["district"] if p.inter_level)
        self._lives: dict[str, _Life] = {}
        self._queue: list[_Event] = []
        self._seq = 0
        self._counters: dict[tuple[str, str], int] = {}
        for cutover in sorted({u.valid_to + timedelta(days=1) for u in self.units if u.successor is not None}):
            self._push(datetime.combine(cutover, time.min, tzinfo=clock.now().tzinfo), "cutover", cutover.isoformat())

    def _served(self, day: date) -> list[Unit]:
        return [u for u in self.topology.active_units(day) if u.system is not None]

    # -- driving ------------------------------------------------------------------------------------------------

    def advance(
        self, hours: float = 0.0, *, until: datetime | None = None, units: Iterable[str] | None = None
    ) -> AdvanceReport:
        """Generate the arrivals of the next ``hours`` (only at ``units`` if given) and play every event up to then."""
        start = self.clock.now()
        end = until if until is not None else start + timedelta(hours=hours)
        chosen = self._select(units)
        hour = start
        while hour < end:
            nxt = min(end, hour + timedelta(hours=1))
            for unit in chosen if units is not None else self._served(hour.date()):
                rate = self.daily.get(unit.level, 0.0) * _hour_weight(hour) / _DAY_WEIGHT * ((nxt - hour) / _HOUR)
                for _ in range(_poisson(self.rng, rate)):
                    self._push(hour + (nxt - hour) * self.rng.random(), "submit", unit.code)
            hour = nxt
        return self._play(end)

    def populate(self, count: int, days: float | None = None, units: Iterable[str] | None = None) -> AdvanceReport:
        """Exactly ``count`` dossiers arriving over ``days`` (by default what the daily rates give), then play."""
        chosen = self._select(units)
        weights = [max(self.daily.get(u.level, 0.0), 0.01) for u in chosen]
        if days is None:
            days = max(1.0, math.ceil(count / sum(weights)))
        start = self.clock.now()
        for _ in range(count):
            unit = self.rng.choices(chosen, weights)[0]
            day = start + timedelta(days=math.floor(self.rng.random() * days))
            hour = self.rng.choices(range(24), _HOUR_WEIGHTS)[0]
            when = max(day.replace(hour=hour, minute=0, second=0) + timedelta(seconds=self.rng.randrange(3600)), start)
            if not unit.valid_on(when.date()):
                unit = self.topology.current(unit, when.date())  # merged by then: its successor receives it
            self._push(when, "submit", unit.code)
        return self._play(start + timedelta(days=days))

    def pending(self) -> int:
        return len(self._queue)

    def _select(self, units: Iterable[str] | None) -> list[Unit]:
        if units is None:
            return self.units
        return [self._by_code[c] for c in units]

    def _push(self, when: datetime, kind: str, key: str) -> None:
        self._seq += 1
        # the wire carries whole seconds; keeping them here makes the feed order the one clients see
        heapq.heappush(self._queue, (when.replace(microsecond=0), self._seq, kind, key))

    def _play(self, end: datetime) -> AdvanceReport:
        report = AdvanceReport(until=end)
        while self._queue and self._queue[0][0] <= end:
            when, _, kind, key = heapq.heappop(self._queue)
            self.clock.advance_to(when)
            with self.store.lock:
                if kind == "submit":
                    code = self._submit(self._by_code[key], when)
                    report.created += 1
                    report.created_codes.append(code)
                elif kind == "cutover":
                    report.moved += self._cut_over(date.fromisoformat(key))
                    continue
                else:
                    self._step(self._lives[key], kind, when)
            report.changes += 1
        self.clock.advance_to(end)
        return report

    def _cut_over(self, day: date) -> int:
        """The merger at midnight before ``day``: retired units' copies and dossiers go to their successors."""
        current = self._served(day)
        moved = 0
        for unit in self.units:
            if unit.valid_on(day) or unit.successor is None:
                continue
            successor = self.topology.current(unit, day)
            moved += self.store.merge(unit.code, successor.code)
            for life in self._lives.values():
                if life.receiving is unit:
                    life.receiving = successor
                if life.processing is unit:
                    life.processing = successor
        for unit in current:
            if unit.code not in self._officers or self._by_code.get(unit.code) is not unit:
                self._officers[unit.code] = self._make_officers(unit)
        self.units = current
        self._by_code = {u.code: u for u in current}
        return moved

    # -- creation -----------------------------------------------------------------------------------------------

    def _submit(self, unit: Unit, when: datetime) -> str:
        rng = self.rng
        procedure = self._pick_procedure(unit)
        day = when.strftime("%y%m%d")
        counter = self._counters[(unit.agency_id, day)] = self._counters.get((unit.agency_id, day), 0) + 1
        code = f"{unit.agency_id}-{day}-{counter:04d}"
        working = when.weekday() < 5 and 7 <= when.hour < 17
        online_share = {4: 0.85, 3: 0.6, 2: 0.0}[procedure.service_level]
        roll = rng.random()
        channel = 2 if roll < online_share or not working else (3 if roll > 0.97 else 1)
        applicant = self._applicant(unit, channel)
        paid_online = bool(procedure.fees) and channel == 2 and rng.random() < 0.6
        record = HoSo(
            MaHoSo=code,
            MaDonViTiepNhan=unit.code,
            MaDonViXuLy=None,
            MaThuTuc=procedure.local_code,
            TenThuTuc=procedure.name,
            MaLinhVuc=procedure.field_code,
            TenLinhVuc=procedure.field_name,
            MucDo=procedure.service_level,
            SoBienNhan=None,
            KenhThucHien=channel,
            ChuHoSo=applicant,
            TrichYeu=f"{procedure.name} cho {applicant.HoTen}"[:999],
            TrangThai=Status.SUBMITTED.value if channel == 2 else Status.ACCEPTED.value,
            NgayNop=when,
            HinhThucTra=1 if channel == 3 or (channel == 2 and rng.random() < 0.3) else 0,
            DonViXuLy=_agency_name(unit),
            ThanhToanTrucTuyen=paid_online if procedure.fees else None,
            DanhSachTepDinhKem=[
                TepDinhKem(
                    Id=f"{code}-T{i + 1}",
                    Ten=f"{name}.pdf",
                    MaThanhPhan=comp,
                    DuongDan=f"{FILE_BASE}/{code}/{i + 1}.pdf",
                    DaXoa=False,
                    DuocSoHoa=rng.random() < 0.6,
                    DuocTaiSuDung=rng.random() < 0.2,
                    LayTuKhoDMQG=rng.random() < 0.1,
                )
                for i, (comp, name) in enumerate(procedure.components)
            ],
            DanhSachLePhi=[
                LePhi(
                    Ten=fee.name,
                    Ma=fee.code,
                    HinhThucThu="Trực tuyến" if paid_online else "Trực tiếp",
                    SoTien=fee.amount,
                    Loai=fee.kind,
                )
                for fee in procedure.fees
            ],
            DanhSachGiayToKhac=[GiayTo(Ten="Bản chính giấy tờ tùy thân (để đối chiếu)", SoLuong=1, Loai="BanChinh")]
            if channel == 1 and rng.random() < 0.5
            else [],
            PhienBan=1,
            NgayCapNhat=when,
        )
        officer = self._officer(unit)
        processing = unit
        if unit.level is Level.COMMUNE and procedure.level == "district" and unit.parent is not None:
            processing = self.topology.unit(unit.parent, when.date())
        life = _Life(code, unit, processing, procedure, late=rng.random() < 0.08)
        self._lives[code] = life
        if channel == 2:
            record.DanhSachTienDo.append(
                self._entry(officer, when, "Công dân nộp hồ sơ trực tuyến", Status.SUBMITTED, unit)
            )
            self.store.put(unit.code, record)
            self._push(when + timedelta(hours=rng.uniform(0.5, 20)), "intake", code)
        else:
            self._accept_fields(record, life, when)
            record.DanhSachTienDo.append(
                self._entry(
                    officer, when, "Tiếp nhận hồ sơ tại Bộ phận Một cửa", Status.ACCEPTED, unit, due=record.NgayHenTra
                )
            )
            self.store.put(unit.code, record)
            self._push(when + timedelta(hours=rng.uniform(0.3, 6)), "start", code)
        return code

    def _pick_procedure(self, unit: Unit) -> Procedure:
        if unit.level is Level.COMMUNE:
            if self._inter_level and unit.parent is not None and self.rng.random() < 0.12:
                return self.rng.choice(self._inter_level)
            return self.rng.choice(self._by_level["commune"])
        return self.rng.choice(self._by_level["district"])

    def _applicant(self, unit: Unit, channel: int) -> ChuHoSo:
        rng, fake = self.rng, self.faker
        female = rng.random() < 0.5
        given = fake.first_name_female() if female else fake.first_name_male()
        middle = rng.choice(("Thị", "Thị Thu", "Ngọc", "Thanh")) if female else fake.middle_name()
        person = " ".join(part for part in (fake.last_name(), middle, given) if part)
        roll = rng.random()
        kind = 1 if roll < 0.85 else 2 if roll < 0.97 else 4
        if kind == 1:
            name = person
            id_number = f"049{rng.choice('0123')}{rng.randint(40, 99):02d}{rng.randrange(10**6):06d}"
        elif kind == 2:
            trade = rng.choice(("Thương mại", "Xây dựng", "Dịch vụ", "Nông sản"))
            name = f"Công ty TNHH {trade} {given} {unit.name.split()[-1]}"
            id_number = f"40{rng.randrange(10**8):08d}"
        else:
            name = f"Hợp tác xã nông nghiệp {unit.name.split(' ', 1)[-1]}"
            id_number = f"40{rng.randrange(10**8):08d}"
        address = f"Thôn {rng.randint(1, 12)}, {unit.name}"
        for ancestor in self.topology.ancestors(unit):
            address += f", {ancestor.name}"
        return ChuHoSo(
            HoTen=name,
            LoaiDoiTuong=kind,
            SoGiayTo=id_number,
            MaDoiTuong=f"{rng.randrange(10**9, 10**10)}" if channel == 2 else None,
            Email=f"{_ascii(given)}{rng.randint(1, 999)}@gmail.com" if channel == 2 else None,
            SoDienThoai=f"0{rng.choice('35789')}{rng.randrange(10**8):08d}",
            DiaChi=address,
        )

    # -- steps --------------------------------------------------------------------------------------------------

    def _accept_fields(self, record: HoSo, life: _Life, when: datetime) -> None:
        record.NgayTiepNhan = when
        due = when + timedelta(days=life.procedure.processing_days)
        record.NgayHenTra = due.replace(hour=17, minute=0, second=0, microsecond=0)
        record.SoBienNhan = f"BN{life.code[-11:].replace('-', '')}"

    def _step(self, life: _Life, kind: str, when: datetime) -> None:
        handler = getattr(self, f"_on_{kind}")
        handler(life, when)
        if life.steps:
            at, nxt = life.steps.pop(0)
            self._push(max(at, when), nxt, life.code)

    def _copy(self, life: _Life) -> tuple[HoSo, Unit]:
        unit = life.processing if self.store.has(life.processing.code, life.code) else life.receiving
        return self.store.get(unit.code, life.code).clone(), unit

    def _save(
        self, record: HoSo, unit: Unit, when: datetime, status: Status, content: str, due: datetime | None = None
    ) -> None:
        check_transition(record.TrangThai, status.value)
        previous = record.DanhSachTienDo[-1].ThoiDiem if record.DanhSachTienDo else None
        record.TrangThai = status.value
        record.DanhSachTienDo.append(
            self._entry(self._officer(unit), when, content, status, unit, started=previous, due=due)
        )
        record.PhienBan += 1
        record.NgayCapNhat = when
        self.store.put(unit.code, record)

    def _on_intake(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        roll = self.rng.random()
        if roll < 0.05:
            record.NgayTuChoi = when
            record.GhiChu = "Hồ sơ không đủ điều kiện tiếp nhận theo quy định"
            self._save(record, unit, when, Status.REFUSED, "Từ chối tiếp nhận hồ sơ (mẫu 03)")
        elif roll < 0.08:
            self._save(record, unit, when, Status.WITHDRAWN, "Công dân yêu cầu rút hồ sơ")
        else:
            self._accept_fields(record, life, when)
            self._save(record, unit, when, Status.ACCEPTED, "Tiếp nhận hồ sơ trực tuyến", due=record.NgayHenTra)
            self._push(when + timedelta(hours=self.rng.uniform(0.3, 6)), "start", life.code)

    def _on_start(self, life: _Life, when: datetime) -> None:
        rng = self.rng
        record, unit = self._copy(life)
        if record.TrangThai == Status.ACCEPTED and rng.random() < 0.02:
            self._save(record, unit, when, Status.WITHDRAWN, "Công dân yêu cầu rút hồ sơ")
            return
        appointment = record.NgayHenTra or when + timedelta(days=1)
        if life.processing is not life.receiving:
            above = life.processing
            record.MaDonViXuLy = above.code
            record.DonViXuLy = _agency_name(above)
            self._save(
                record,
                unit,
                when,
                Status.PROCESSING,
                f"Chuyển hồ sơ đến {_agency_name(above)} giải quyết (liên thông)",
                due=appointment,
            )
            copy = record.clone()
            copy.PhienBan = 1
            copy.DanhSachTienDo.append(
                self._entry(
                    self._officer(above),
                    when,
                    f"Tiếp nhận hồ sơ liên thông từ {_agency_name(unit)}",
                    Status.PROCESSING,
                    above,
                    due=appointment,
                )
            )
            copy.NgayCapNhat = when
            self.store.put(above.code, copy)
        else:
            self._save(
                record, unit, when, Status.PROCESSING, "Chuyển phòng chuyên môn thẩm định, xử lý", due=appointment
            )
        self._plan(life, when, appointment)

    def _plan(self, life: _Life, start: datetime, appointment: datetime) -> None:
        """The rest of the dossier's path, as (when, step) in the order they happen."""
        rng = self.rng
        window = max(appointment - start, timedelta(hours=4))
        if life.late:
            end = appointment + window * rng.uniform(0.1, 0.6) + timedelta(hours=2)
        else:
            end = start + window * rng.uniform(0.2, 0.95)
        middle: list[str] = []
        for _ in range(rng.choices((0, 1, 2), (0.8, 0.16, 0.04))[0]):
            middle += ["supplement", "supplied"]
        if life.procedure.fees and rng.random() < 0.5:
            middle += ["payment", "paid"]
        times = sorted(start + (end - start) * rng.random() for _ in middle)
        steps = list(zip(times, middle, strict=True))
        roll = rng.random()
        ending = "stop" if roll < 0.02 else "withdraw" if roll < 0.04 else "finish"
        steps.append((end, ending))
        if ending == "finish":
            steps.append((end + timedelta(hours=rng.uniform(1, 72)), "return"))
        if life.late and rng.random() < 0.75:
            # most apologise the day before the appointment or earlier (Decree 61/2018), some only on the day
            apology = max(start + timedelta(minutes=5), appointment - timedelta(hours=rng.uniform(1, 60)))
            new_day = (end + timedelta(days=rng.randint(0, 2))).replace(hour=17, minute=0, second=0, microsecond=0)
            life.new_appointment = max(new_day, end)
            steps.append((apology, "apology"))
        life.steps = sorted(steps, key=lambda s: s[0])

    def _on_supplement(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        officer = self._officer(unit)
        record.DanhSachBoSung.append(
            BoSung(
                Id=f"{life.code}-BS{len(record.DanhSachBoSung) + 1}",
                NguoiYeuCau=officer.name,
                NoiDung="Đề nghị bổ sung bản sao giấy tờ chứng minh nơi cư trú (mẫu 02)",
                NgayYeuCau=when,
                TrangThai="ChoBoSung",
                GiayTo=["Giấy tờ chứng minh nơi cư trú"],
            )
        )
        self._save(record, unit, when, Status.SUPPLEMENT_REQUIRED, "Yêu cầu bổ sung hồ sơ")

    def _on_supplied(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        if self.rng.random() < 0.1:
            life.steps.clear()
            self._save(record, unit, when, Status.WITHDRAWN, "Công dân không bổ sung, yêu cầu rút hồ sơ")
            return
        waiting = next((b for b in reversed(record.DanhSachBoSung) if b.TrangThai == "ChoBoSung"), None)
        if waiting is not None:
            waiting.TrangThai = "DaBoSung"
            waiting.NgayTiepNhan = when
            waiting.NguoiTiepNhan = self._officer(unit).name
            waiting.ThongTinTiepNhan = "Công dân đã bổ sung đầy đủ"
        self._save(
            record, unit, when, Status.PROCESSING, "Tiếp nhận hồ sơ bổ sung, tiếp tục xử lý", due=record.NgayHenTra
        )

    def _on_payment(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        self._save(record, unit, when, Status.PAYMENT_REQUIRED, "Thông báo thực hiện nghĩa vụ tài chính")

    def _on_paid(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        if record.KenhThucHien == 2 and self.rng.random() < 0.6:
            record.ThanhToanTrucTuyen = True
        self._save(
            record, unit, when, Status.PROCESSING, "Công dân đã hoàn thành nghĩa vụ tài chính", due=record.NgayHenTra
        )

    def _on_apology(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        if Status(record.TrangThai).terminal or life.new_appointment is None:
            return
        old = record.NgayHenTra
        record.DanhSachBoSung.append(
            BoSung(
                Id=f"{life.code}-BS{len(record.DanhSachBoSung) + 1}",
                NguoiYeuCau=self._officer(unit).name,
                NoiDung=f"Văn bản xin lỗi và hẹn lại ngày trả kết quả (mẫu 04): {_agency_name(unit)} chậm thẩm định",
                NgayYeuCau=when,
                TrangThai="GiaHan",
                NgayHenTraTruoc=old,
                NgayHenTraMoi=life.new_appointment,
            )
        )
        record.NgayHenTra = life.new_appointment
        self._save(
            record,
            unit,
            when,
            Status(record.TrangThai),
            "Xin lỗi công dân và hẹn lại ngày trả kết quả",
            due=life.new_appointment,
        )

    def _on_finish(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        record.NgayKetThucXuLy = when
        record.DanhSachKetQua.append(
            KetQua(
                Ten=f"Kết quả: {life.procedure.name}"[:255],
                MaThanhPhan=f"{life.procedure.local_code}-KQ",
                Id=f"{life.code}-KQ1",
                DuongDan=f"{FILE_BASE}/{life.code}/ket-qua.pdf",
                MaGiayTo=f"KQ-{life.code}",
            )
        )
        self._save(record, unit, when, Status.DONE, "Phê duyệt, ký kết quả giải quyết")

    def _on_return(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        record.NgayTra = when
        self._save(record, unit, when, Status.RETURNED, "Trả kết quả cho công dân")

    def _on_stop(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        record.NgayKetThucXuLy = when
        record.GhiChu = "Dừng xử lý theo đề nghị của cơ quan chuyên môn (mẫu 05)"
        life.steps.clear()
        self._save(record, unit, when, Status.STOPPED, "Dừng xử lý hồ sơ")

    def _on_withdraw(self, life: _Life, when: datetime) -> None:
        record, unit = self._copy(life)
        life.steps.clear()
        self._save(record, unit, when, Status.WITHDRAWN, "Công dân yêu cầu rút hồ sơ")

    # -- people -------------------------------------------------------------------------------------------------

    def _make_officers(self, unit: Unit) -> list[Officer]:
        fake, rng = self.faker, self.rng
        if unit.level is Level.COMMUNE:
            roles = [
                ("Công chức Văn phòng - Thống kê", "Bộ phận Tiếp nhận và Trả kết quả"),
                ("Công chức Tư pháp - Hộ tịch", "Tư pháp - Hộ tịch"),
                ("Công chức Địa chính - Xây dựng", "Địa chính - Xây dựng"),
                ("Phó Chủ tịch UBND", "Lãnh đạo UBND"),
            ]
        else:
            roles = [
                ("Chuyên viên", "Bộ phận Một cửa"),
                ("Chuyên viên", "Phòng Tư pháp"),
                ("Trưởng phòng", "Phòng Tài nguyên và Môi trường"),
                ("Phó Chủ tịch UBND", "Lãnh đạo UBND"),
            ]
        officers = []
        for title, dept in roles:
            given = fake.first_name_male() if rng.random() < 0.5 else fake.first_name_female()
            officers.append(Officer(f"{fake.last_name()} {fake.middle_name()} {given}", title, dept))
        return officers

    def _officer(self, unit: Unit) -> Officer:
        return self.rng.choice(self._officers[unit.code])

    def _entry(
        self,
        officer: Officer,
        when: datetime,
        content: str,
        status: Status,
        unit: Unit,
        started: datetime | None = None,
        due: datetime | None = None,
    ) -> TienDo:
        return TienDo(
            NguoiXuLy=officer.name[:50],
            ChucDanh=officer.title,
            ThoiDiem=when,
            PhongBan=officer.department,
            NoiDung=content,
            TrangThai=status.value,
            NgayBatDau=started,
            NgayKetThucTheoQuyDinh=due,
            MaDonVi=unit.code,
        )


_HOUR = timedelta(hours=1)
_HOUR_WEIGHTS = [1.0 if 7 <= h < 17 else 0.08 for h in range(24)]  # online dossiers arrive at night too
_DAY_WEIGHT = sum(_HOUR_WEIGHTS)


def _hour_weight(when: datetime) -> float:
    weight = _HOUR_WEIGHTS[when.hour]
    return weight if when.weekday() < 5 else weight * 0.2


def _poisson(rng: random.Random, rate: float) -> int:
    if rate <= 0:
        return 0
    limit, k, p = math.exp(-rate), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _agency_name(unit: Unit) -> str:
    return f"UBND {unit.name}"


def _ascii(name: str) -> str:
    folded = unicodedata.normalize("NFD", name.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in folded if c.isascii() and c.isalnum()).lower()
