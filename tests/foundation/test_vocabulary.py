"""The one vocabulary: every code the product can show has a Vietnamese and an English label, figures are written
the vi_VN way, and the check that pages and commands use the labels finds a bare code."""

from __future__ import annotations

import pytest

from foundation import vocabulary
from foundation.vocabulary import Vocab
from tests.vocabulary import FAMILIES, bare_in_html, bare_in_text


@pytest.mark.parametrize("family", list(FAMILIES), ids=str)
@pytest.mark.parametrize("lang", ["vi", "en"])
def test_every_code_of_every_family_has_a_label_in_both_languages(family: Vocab, lang: str) -> None:
    missing = sorted(code for code in FAMILIES[family] if not vocabulary.has_label(family, code, lang))
    assert missing == []


def test_the_default_is_vietnamese_and_english_is_second() -> None:
    assert vocabulary.label(Vocab.STATE, "parked") == "Bị dừng chờ xử lý"
    assert vocabulary.label(Vocab.STATE, "parked", "en") == "Parked"
    assert vocabulary.label(Vocab.STATE, "parked", "fr") == "Bị dừng chờ xử lý"  # an unknown language reads vi


def test_an_error_class_says_what_to_do() -> None:
    assert "Ánh xạ thủ tục" in vocabulary.advice("mapping_missing")
    assert vocabulary.advice("remote_unavailable") != vocabulary.advice("mapping_missing")


def test_a_code_without_a_label_shows_itself_rather_than_failing() -> None:
    assert vocabulary.label(Vocab.STATE, "no_such_state") == "no_such_state"
    assert vocabulary.labelled(Vocab.STATE, "no_such_state") == "no_such_state"
    assert vocabulary.labelled(Vocab.ROLE, "admin") == "Quản trị viên (admin)"


@pytest.mark.parametrize(
    ("ratio", "vi", "en"),
    [(0.5714, "57,1 %", "57.1%"), (1, "100,0 %", "100.0%"), (12.345, "1.234,5 %", "1,234.5%"), (None, "–", "–")],
)
def test_percentages_are_written_the_vi_vn_way(ratio: float | None, vi: str, en: str) -> None:
    assert vocabulary.percent(ratio) == vi
    assert vocabulary.percent(ratio, "en") == en


def test_figures_group_thousands_with_dots_and_mark_decimals_with_a_comma() -> None:
    assert vocabulary.number(1234567) == "1.234.567"
    assert vocabulary.number(1234.5, decimals=1) == "1.234,5"
    assert vocabulary.number(1234.5, "en", decimals=1) == "1,234.5"


def test_the_check_finds_a_bare_code_and_accepts_a_labelled_one() -> None:
    assert bare_in_text("Trạng thái: parked") == ["parked"]
    assert bare_in_text("Trạng thái: Bị dừng chờ xử lý (parked)") == []
    assert bare_in_text("--state [parked|held]  Bị dừng chờ xử lý (parked), Tạm giữ (đích tạm dừng) (held)") == []
    assert bare_in_text("--state [parked|held]  Bị dừng chờ xử lý (parked)") == ["parked", "held"]  # held unlabelled
    assert bare_in_text("[default: parked] Bị dừng chờ xử lý (parked)") == []
    assert bare_in_text("[default: parked]") == ["parked"]
    assert bare_in_text("dvc-hub logs search --state parked") == []
    assert bare_in_text("poll:motcua-quangnam:20965") == []  # a job id is one identifier
    assert bare_in_text("mapping_missing: no national code") == [
        "mapping_missing"
    ]  # an option's value in an example is syntax
    assert bare_in_text("│ poll   Lấy thay đổi ngay") == []  # a help panel's command name
    assert bare_in_text("│ poll   Poll units now") == ["Poll"]
    assert bare_in_html('<td><span class="pill parked">parked</span></td>') == ["parked"]
    assert bare_in_html('<td><span title="parked">Bị dừng chờ xử lý</span></td>') == []
    assert bare_in_html('<td class="code">mapping_missing</td><td>Thủ tục chưa có mã</td>') == []
    assert bare_in_html("<p>Lỗi: mapping_missing</p><script>var s = 'parked';</script>") == ["mapping_missing"]
