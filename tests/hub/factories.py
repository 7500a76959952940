"""One-stop-shop records (the default vendor's shape, as the SOAP connector hands them over) for hub tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import insert

from foundation.clock import VN_TZ
from hub import logchain
from hub.store.db import Database
from hub.store.models import Attempt, Message

T0 = datetime(2024, 3, 4, 8, 0, tzinfo=VN_TZ)
COMMUNE = "20965"  # Thị trấn Núi Thành, agency 000.01.17.H47
DISTRICT = "517"  # Huyện Núi Thành
AGENCY = {"20965": "000.01.17.H47", "20968": "000.02.17.H47", "517": "000.00.17.H47"}


def dossier_code(unit: str, n: int) -> str:
    return f"{AGENCY[unit]}-240304-{n:04d}"


def progress(status: int, at: datetime, content: str, unit: str = COMMUNE) -> dict[str, Any]:
    return {
        "NguoiXuLy": "Trần Thị Bích",
        "ChucDanh": "Công chức một cửa",
        "ThoiDiem": at,
        "PhongBan": "Bộ phận một cửa",
        "NoiDung": content,
        "TrangThai": status,
        "NgayBatDau": at,
        "NgayKetThucTheoQuyDinh": at + timedelta(days=1),
        "MaDonVi": unit,
    }


def record(
    code: str,
    *,
    unit: str = COMMUNE,
    version: int = 1,
    status: int = 2,
    procedure: str = "NT-HT-001",
    processing_unit: str | None = None,
    steps: list[dict[str, Any]] | None = None,
    updated_at: datetime | None = None,
) -> dict[str, Any]:
    """A dossier record of ``unit``'s copy, revision ``version``."""
    updated = updated_at or T0 + timedelta(minutes=version)
    return {
        "MaHoSo": code,
        "MaDonViTiepNhan": unit,
        "MaDonViXuLy": processing_unit,
        "MaThuTuc": procedure,
        "TenThuTuc": "Đăng ký khai sinh",
        "MaLinhVuc": "HT",
        "TenLinhVuc": "Hộ tịch",
        "MucDo": 4,
        "SoBienNhan": code[-4:],
        "KenhThucHien": 2,
        "ChuHoSo": {
            "HoTen": "Nguyễn Văn An",
            "LoaiDoiTuong": 1,
            "SoGiayTo": "049088001234",
            "MaDoiTuong": None,
            "Email": "an.nguyen@example.vn",
            "SoDienThoai": "0905123456",
            "DiaChi": "Thôn 1, Tam Quang, Núi Thành",
        },
        "TrichYeu": "Đăng ký khai sinh cho con",
        "TrangThai": status,
        "NgayNop": T0,
        "NgayTiepNhan": T0,
        "NgayHenTra": T0 + timedelta(days=3),
        "NgayKetThucXuLy": None,
        "NgayTra": None,
        "NgayTuChoi": None,
        "HinhThucTra": 0,
        "DonViXuLy": "UBND Thị trấn Núi Thành",
        "GhiChu": None,
        "ThanhToanTrucTuyen": False,
        "DanhSachTepDinhKem": {"TepDinhKem": []},
        "DanhSachLePhi": {"LePhi": []},
        "DanhSachGiayToKhac": {"GiayTo": []},
        "DanhSachBoSung": {"BoSung": []},
        "DanhSachKetQua": {"KetQua": []},
        "DanhSachTienDo": {"TienDo": steps if steps is not None else [progress(2, T0, "Tiếp nhận hồ sơ", unit)]},
        "PhienBan": version,
        "NgayCapNhat": updated,
    }


def write_attempts(db: Database, days: list[date], *, per_day: int) -> None:
    """``per_day`` attempts of one message on each day (with personal payloads and their redacted copies), the last a
    second before the Vietnam midnight that ends the day."""
    with db.session() as session:
        message_id = session.execute(
            insert(Message).values(kind="deliver", actor="deliver_dossier", dossier_code="H1").returning(Message.id)
        ).scalar_one()
        rows = []
        for day in days:
            start, end = logchain.day_bounds(day)
            for n in range(per_day):
                at = end - timedelta(seconds=1) if n == per_day - 1 else start + timedelta(hours=n + 1)
                rows.append(
                    {
                        "message_id": message_id,
                        "number": n + 1,
                        "outcome": "succeeded" if n % 3 else "retry",
                        "started_at": at,
                        "finished_at": at + timedelta(milliseconds=250),
                        "duration_ms": 250.5,
                        "worker": "w1",
                        "request": {"HoTenNguoiNop": "Nguyễn Văn A", "SoCMND": "012345678901", "n": n},
                        "response": {"error_code": 0},
                        "request_redacted": {"HoTenNguoiNop": "***", "n": n},
                        "response_redacted": {"error_code": 0},
                    }
                )
        session.execute(insert(Attempt), rows)
