"""Invalid records: every problem at once, at the vendor's element path, personal values redacted."""

from __future__ import annotations

from typing import Any

import pytest

from foundation.errors import Problem
from mappings.errors import ValidationFailed
from mappings.procedures import InMemoryProcedureLookup
from systems.motcua import mapping as motcua


def broken_record() -> dict[str, Any]:
    return {
        "MaHoSo": "000.01.17.H47-231027-0012",
        "MaDonViTiepNhan": "20965",
        "MaThuTuc": "NT-HT-001",
        "TenThuTuc": "Đăng ký khai sinh",
        "KenhThucHien": 9,
        "ChuHoSo": {"HoTen": "Nguyễn Văn An", "LoaiDoiTuong": 1, "SoDienThoai": "12345"},
        "TrangThai": 4,
        "NgayHenTra": "31/02/2023",
        "DanhSachTepDinhKem": {
            "TepDinhKem": [
                {"Id": "F-1", "Ten": "Tờ khai"},
                {"Id": "F-2", "Ten": "Giấy chứng sinh"},
                {"Ten": "Không có mã"},
            ]
        },
        "PhienBan": 3,
        "NgayCapNhat": "2023-10-27T14:05:30+07:00",
    }


def test_every_problem_of_a_record_is_reported_at_once_with_exact_wording() -> None:
    with pytest.raises(ValidationFailed) as raised:
        motcua.to_canonical(broken_record(), procedures=InMemoryProcedureLookup({}))

    error = raised.value
    assert error.dossier_code == "000.01.17.H47-231027-0012"
    assert error.problems == [
        Problem(
            "ChuHoSo.SoDienThoai",
            "số điện thoại không hợp lệ: cần 10 chữ số (di động) hoặc 11 chữ số (cố định) bắt đầu bằng 0",
            "not a Vietnamese phone number: 10 digits (mobile) or 11 (landline) starting with 0",
            "***",
        ),
        Problem(
            "KenhThucHien",
            "kênh thực hiện không hợp lệ: 9",
            "unknown channel: 9",
            "9",
        ),
        Problem(
            "NgayHenTra",
            "ngày giờ không đúng định dạng (yyyyMMddHHmmss, yyyy-MM-ddTHH:mm:ss, dd/MM/yyyy HH:mm:ss)",
            "not a date/time in a known format (yyyyMMddHHmmss, ISO 8601, dd/MM/yyyy HH:mm:ss)",
            "31/02/2023",
        ),
        Problem(
            "DanhSachTepDinhKem.TepDinhKem[2].Id",
            "thiếu trường bắt buộc",
            "Field required",
            None,
            "files[2].file_id",  # the canonical path beside the vendor's
        ),
    ]
    assert str(error).startswith("[000.01.17.H47-231027-0012] Hồ sơ 000.01.17.H47-231027-0012 không hợp lệ (4 lỗi): ")
    assert "12345" not in str(error)  # personal data never reaches the message


def test_canonical_checks_are_reported_at_source_paths_in_both_languages() -> None:
    record = broken_record()
    record.update(KenhThucHien=2, NgayHenTra=None, MaHoSo="000.01.17.H47-231327-0012", MaDonViXuLy="x517")
    record["ChuHoSo"] = {"HoTen": "Nguyễn Văn An", "LoaiDoiTuong": 1, "SoGiayTo": ["049123456789"]}
    record["DanhSachTepDinhKem"] = None
    with pytest.raises(ValidationFailed) as raised:
        motcua.to_canonical(record, procedures=InMemoryProcedureLookup({}))
    by_path = {p.path: p for p in raised.value.problems}
    assert set(by_path) == {"MaHoSo", "MaDonViXuLy", "ChuHoSo.SoGiayTo"}
    assert by_path["MaHoSo"].message_vi == "ngày '231327' trong mã hồ sơ không tồn tại"
    assert by_path["MaHoSo"].message_en == "no such date in the dossier code"
    assert by_path["MaDonViXuLy"].message_vi == "sai định dạng"
    assert by_path["ChuHoSo.SoGiayTo"].value == "***"
