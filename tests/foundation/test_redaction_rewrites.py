"""Issue 27, DoD 2: a personal value rewritten the way people and portals rewrite it is still masked.

Hypothesis writes citizen IDs, phone numbers and e-mail addresses in their common rewritten forms (grouped by
spaces, dots, dashes or brackets, ``+84``/``84``/``0084``, ``[at]``/``(at)``, capitals, full-width signs) and
known values (a name, an address) in decomposed or composed Unicode, with or without accents, in capitals; none may
survive :func:`foundation.redaction.mask_text`. The same strategies feed the console and log tests (``rewrites``).
"""

from __future__ import annotations

import re
import unicodedata
from typing import Literal

from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.redaction import hiding, mask_text

SEPARATORS = st.sampled_from(["", " ", ".", "-", "  ", " - "])
WORDS = st.sampled_from(["Hồ sơ của", "Không lưu được:", "liên hệ", "ĐT", "CCCD:", "chủ hồ sơ", "(", "gửi"])


def fold(text: str) -> str:
    """Accents, case and compatibility forms dropped: how a reader recognises a rewritten value."""
    decomposed = unicodedata.normalize("NFKD", text.replace("đ", "d").replace("Đ", "D"))
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@st.composite
def grouped(draw: st.DrawFn, digits: str) -> str:
    """``digits`` cut into groups of 2-4 joined by one separator, as people write numbers."""
    separator = draw(SEPARATORS)
    groups, rest = [], digits
    while rest:
        size = draw(st.integers(2, 4))
        groups.append(rest[:size])
        rest = rest[size:]
    if draw(st.booleans()) and len(groups) > 1:
        groups[0] = f"({groups[0]})"
    return separator.join(groups)


@st.composite
def id_numbers(draw: st.DrawFn) -> tuple[str, str]:
    """A citizen ID (12-digit CCCD or 9-digit CMND) as written, and its digits."""
    if draw(st.booleans()):
        digits = "0" + draw(st.from_regex(r"[0-9]{11}", fullmatch=True))
    else:
        digits = draw(st.from_regex(r"[1-9][0-9]{8}", fullmatch=True))
    return draw(grouped(digits)), digits


@st.composite
def phones(draw: st.DrawFn) -> tuple[str, str]:
    """A Vietnamese mobile number in one of its national or international forms, and its 9 significant digits."""
    national = draw(st.from_regex(r"[35789][0-9]{8}", fullmatch=True))
    prefix = draw(st.sampled_from(["0", "+84", "+84 ", "84", "(+84) ", "+84.", "0084 ", "+84-", "(0"]))
    body = draw(grouped(national))
    if prefix == "(0":
        body = body.replace("(", "").replace(")", "")
        return f"(0{national[:3]}) {national[3:6]}{draw(SEPARATORS)}{national[6:]}", national
    return prefix + body, national


@st.composite
def emails(draw: st.DrawFn) -> tuple[str, str]:
    """An e-mail address with its @ and dots as people hide them from crawlers, and its local part."""
    local = draw(st.from_regex(r"[a-z][a-z0-9]{2,8}(\.[a-z0-9]{2,6})?", fullmatch=True))
    domain = draw(st.sampled_from([["mien", "vn"], ["so-tu-phap", "quangnam", "gov", "vn"], ["gmail", "com"]]))
    at = draw(st.sampled_from(["@", "[at]", "(at)", " [at] ", " (at) ", "＠", " @ ", "{at}", "[ at ]"]))
    dot = draw(st.sampled_from([".", ".", "[dot]", " (dot) "]))
    text = f"{local}{at}{dot.join(domain)}"
    return (text.upper() if draw(st.booleans()) else text), local


NAMES = ["Hoàng Thị Zênh Phúc", "Đặng Văn Ước", "Nguyễn Thị Ánh Tuyết", "Tổ 9, thôn Zênh Xá, xã Tam Quang"]


@st.composite
def known_rewrites(draw: st.DrawFn) -> tuple[str, str]:
    """A known value (a name, an address) and the same value as a portal may echo it."""
    value = draw(st.sampled_from(NAMES))
    shown = value
    if draw(st.booleans()):
        shown = fold(shown)  # without accents
    if draw(st.booleans()):
        shown = shown.upper()
    form: Literal["NFC", "NFD", "NFKC", "NFKD"] = draw(st.sampled_from(["NFC", "NFD", "NFKC", "NFKD"]))
    return unicodedata.normalize(form, shown), value


def digits_left(text: str) -> list[str]:
    """Every run of digits in ``text``, grouping spaces, dots, dashes and brackets removed."""
    return [re.sub(r"\D", "", run) for run in re.findall(r"\d[\d .()\-+]*", text)]


def survives(masked: str, value: str, core: str) -> bool:
    """Whether ``value`` (whose identifying core is ``core``) can still be read in ``masked``."""
    if core.isdigit():
        return any(core in run for run in digits_left(masked))
    flat = re.sub(r"\W", "", fold(masked))
    return re.sub(r"\W", "", fold(core)) in flat


REWRITES = st.one_of(id_numbers(), phones(), emails())


@settings(max_examples=300, deadline=None)
@given(rewritten=REWRITES, before=WORDS, after=WORDS)
def test_rewritten_ids_phones_and_emails_are_masked(rewritten: tuple[str, str], before: str, after: str) -> None:
    shown, core = rewritten
    masked = mask_text(f"{before} {shown}, {after}")
    assert not survives(masked, shown, core), masked


@settings(max_examples=200, deadline=None)
@given(rewritten=known_rewrites(), before=WORDS)
def test_a_known_value_is_masked_in_any_form(rewritten: tuple[str, str], before: str) -> None:
    shown, value = rewritten
    assert not survives(mask_text(f"{before} {shown} xin bổ sung", [value]), shown, value)
    with hiding([value]):  # a value in scope (a batch's other dossiers) is hidden without being passed
        assert not survives(mask_text(f"{before} {shown} xin bổ sung"), shown, value)


def test_masking_keeps_what_is_nobodys() -> None:
    text = "Hồ sơ 000.01.17.H47-050304-0001 ngày 2024-03-04 10:15:07 lỗi -1 (HTTP 422), mã TTHC 1.001193, 12 giờ"
    assert mask_text(text, ["Hoàng Thị Zênh Phúc"]) == text
