"""A dossier's history as an office reads it: processing steps as a table, version changes as labelled fields with
readable values in Vietnam time."""

from __future__ import annotations

from console.history import field_changes, steps
from console.queries import Change, diff

STEP = {
    "handler": "Lê Văn Bình",
    "title": "Chuyên viên",
    "at": "2023-10-31T02:30:00+00:00",
    "content": "Thẩm định hồ sơ",
    "status": 4,
    "step_started_at": "2023-10-30T08:00:00+07:00",
    "step_due_at": "2023-10-30T17:00:00+07:00",
    "unit_code": "20968",
}


def test_a_new_processing_step_reads_as_labelled_fields_in_vietnam_time() -> None:
    old = {"status": 2, "version": 3, "progress": []}
    new = {"status": 4, "version": 4, "progress": [{**STEP, "step_due_at": None}]}
    shown = {c.label: (c.old, c.new) for c in field_changes(diff(old, new), "vi")}
    assert shown["Trạng thái (TrangThaiHoSo)"] == ("2 · Được tiếp nhận", "4 · Đang xử lý")
    assert shown["Quá trình xử lý › mục 1 › Cán bộ xử lý (NguoiXuLy)"] == ("(trống)", "Lê Văn Bình")
    assert shown["Quá trình xử lý › mục 1 › Thời điểm xử lý (ThoiDiemXuLy)"] == ("(trống)", "31/10/2023 09:30")
    assert not any("version" in label.lower() or "Phiên bản" in label for label in shown)  # the version is the row
    assert not any("NgayKetThucTheoQuyDinh" in label for label in shown)  # nothing to nothing is no change


def test_a_changed_appointment_shows_both_days_in_local_time() -> None:
    change = Change("appointment_at", "2023-10-31T03:00:00+00:00", "2023-11-02T10:00:00+07:00")
    (shown,) = field_changes([change], "vi")
    assert (shown.label, shown.old, shown.new) == ("Ngày hẹn trả (NgayHenTra)", "31/10/2023 10:00", "02/11/2023 10:00")
    (english,) = field_changes([change], "en")
    assert english.label == "Appointment (NgayHenTra)"


def test_the_processing_table_has_step_officer_position_unit_times_and_status() -> None:
    (row,) = steps({"progress": [STEP]}, "vi")
    assert (row.number, row.content, row.officer, row.position, row.unit_code) == (
        1,
        "Thẩm định hồ sơ",
        "Lê Văn Bình",
        "Chuyên viên",
        "20968",
    )
    assert (row.started, row.ended, row.due, row.status) == (
        "30/10/2023 08:00",
        "31/10/2023 09:30",
        "30/10/2023 17:00",
        "4 · Đang xử lý",
    )
    assert row.late  # ended after its due time
    (on_time,) = steps({"progress": [{**STEP, "step_due_at": None}]}, "vi")
    assert on_time.due == "—" and not on_time.late
