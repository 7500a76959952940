"""Property: canonical → a one-stop-shop vendor's record (default contract or a profile) → canonical loses nothing;
the portal's dates are Vietnam time."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from foundation.clock import VN_TZ
from mappings.canonical import Dossier
from mappings.codes import ApplicantType, Channel, ReturnMethod, Status
from mappings.procedures import InMemoryProcedureLookup
from mappings.vendors import from_default, profile, to_default
from systems.dvcqg import mapping as dvcqg
from systems.motcua import mapping as motcua
from tests.conftest import examples

# Vietnamese letters, digits and inner spaces; the canonical model trims and folds, so generate what it keeps
_LETTERS = (
    "aăâbcdđeêghiklmnoôơpqrstuưvxyAĂÂĐÊÔƠƯàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụừửữứựỳỷỹýỵ0123456789-"
)
word = st.text(_LETTERS, min_size=1, max_size=8)
ascii_word = st.text("abcdefghijklmnopqrstuvwxyzABC0123456789", min_size=1, max_size=8)
name = st.lists(word, min_size=1, max_size=4).map(" ".join)
opt_name = st.none() | name
EARLIEST = datetime(2015, 1, 1)  # noqa: DTZ001 - bounds for hypothesis, which generates naive values
LATEST = datetime(2030, 12, 31)  # noqa: DTZ001
# the portal carries seconds, not microseconds
moment = st.datetimes(min_value=EARLIEST, max_value=LATEST).map(lambda d: d.replace(microsecond=0, tzinfo=VN_TZ))
opt_moment = st.none() | moment
fee = st.fixed_dictionaries(
    {
        "name": name,
        "code": opt_name,
        "collection_method": opt_name,
        "kind": opt_name,
        "amount": st.integers(0, 10_000_000).map(Decimal),
    }
)
progress = st.fixed_dictionaries(
    {
        "handler": st.text(_LETTERS, min_size=1, max_size=50),
        "title": opt_name,
        "at": moment,
        "department": opt_name,
        "content": name,
        "status": st.sampled_from(Status),
        "step_started_at": opt_moment,
        "step_due_at": opt_moment,
    }
)
dossier = st.fixed_dictionaries(
    {
        "code": st.tuples(st.integers(1, 9999), st.dates(EARLIEST.date(), LATEST.date())).map(
            lambda t: f"000.01.17.H47-{t[1]:%y%m%d}-{t[0]:04d}"
        ),
        "receiving_unit": st.sampled_from(["20965", "517", "49"]),
        "local_procedure_code": st.just("NT-HT-001"),
        "national_procedure_code": st.just("1.001193"),
        "procedure_name": name,
        "field_code": opt_name,
        "field_name": opt_name,
        "receipt_number": opt_name,
        "channel": st.sampled_from(Channel),
        "applicant": st.fixed_dictionaries(
            {
                "name": name,
                "kind": st.sampled_from(ApplicantType),
                "id_number": st.none() | st.integers(10**8, 10**12 - 1).map(str),
                "portal_account_id": opt_name,
                "email": st.none() | st.tuples(ascii_word, ascii_word).map(lambda t: f"{t[0]}@{t[1].lower()}.vn"),
                "phone": st.none() | st.integers(10**8, 10**9 - 1).map(lambda i: f"09{i % 10**8:08d}"),
                "fax": opt_name,
                "address": opt_name,
                "vneid_verified": st.none() | st.booleans(),
            }
        ),
        "summary": st.text(_LETTERS + " ", max_size=200).map(lambda s: " ".join(s.split())),
        "status": st.sampled_from(Status),
        "submitted_at": opt_moment,
        "received_at": opt_moment,
        "appointment_at": opt_moment,
        "finished_at": opt_moment,
        "returned_at": opt_moment,
        "refused_at": opt_moment,
        "return_info": opt_name,
        "return_method": st.none() | st.sampled_from(ReturnMethod),
        "processing_unit_name": opt_name,
        "note": opt_name,
        "submission_place": opt_name,
        "paid_online": st.none() | st.booleans(),
        "files": st.lists(
            st.fixed_dictionaries(
                {
                    "file_id": word,
                    "name": name,
                    "component_code": opt_name,
                    "url": opt_name,
                    "deleted": st.booleans(),
                    "digitised": st.booleans(),
                    "reused": st.booleans(),
                    "from_national_store": st.booleans(),
                }
            ),
            max_size=5,
        ),
        "fees": st.lists(fee, max_size=3),
        "other_papers": st.lists(
            st.fixed_dictionaries({"name": name, "quantity": st.integers(1, 20), "kind": opt_name}), max_size=2
        ),
        "supplements": st.lists(
            st.fixed_dictionaries(
                {
                    "round_id": word,
                    "requested_by": opt_name,
                    "content": opt_name,
                    "requested_at": opt_moment,
                    "received_by": opt_name,
                    "receipt_info": opt_name,
                    "received_at": opt_moment,
                    "status": opt_name,
                    "papers": st.lists(name, max_size=3),
                    "fees": st.lists(fee, max_size=2),
                    "previous_appointment": opt_moment,
                    "new_appointment": opt_moment,
                }
            ),
            max_size=2,
        ),
        "results": st.lists(
            st.fixed_dictionaries(
                {
                    "name": name,
                    "component_code": opt_name,
                    "paper_id": opt_name,
                    "url": opt_name,
                    "result_code": opt_name,
                }
            ),
            max_size=2,
        ),
        "progress": st.lists(progress, max_size=4),
        "version": st.integers(1, 1000),
        "updated_at": moment,
    }
).map(Dossier.model_validate)


@settings(max_examples=examples(40), deadline=None)
@given(dossier)
def test_canonical_to_vendor_record_and_back_is_lossless(d: Dossier) -> None:
    plain = d.model_copy(
        update={
            "supplements": tuple(s.model_copy(update={"fees": ()}) for s in d.supplements),
            "national_procedure_code": None,
            "applicant": d.applicant.model_copy(update={"fax": None, "vneid_verified": None}),
            "return_info": None,
            "submission_place": None,
        }
    )
    assert motcua.to_canonical(motcua.from_canonical(plain), procedures=InMemoryProcedureLookup({})) == plain


def test_portal_dates_are_vietnam_time_strings() -> None:
    at = datetime(2023, 10, 27, 1, 15, 5, tzinfo=VN_TZ) + timedelta(hours=0)
    assert dvcqg.portal_time(at) == "20231027011505"
    assert dvcqg.portal_time(None) == ""


@settings(max_examples=examples(40), deadline=None)
@given(dossier, st.sampled_from(["phuongnam", "bachdang"]))
def test_canonical_to_another_vendors_record_and_back_through_its_profile_is_lossless(d: Dossier, name: str) -> None:
    # What the default contract carries (the test above), reshaped, spelled and formatted the vendor's way and read
    # back through the same profile: nothing may be lost or changed by the profile.
    plain = d.model_copy(
        update={
            "supplements": tuple(s.model_copy(update={"fees": ()}) for s in d.supplements),
            "national_procedure_code": None,
            "applicant": d.applicant.model_copy(update={"fax": None, "vneid_verified": None}),
            "return_info": None,
            "submission_place": None,
        }
    )
    vendor = profile(name)
    theirs = from_default(motcua.from_canonical(plain), vendor)
    assert "MaHoSo" not in theirs and "TrangThai" not in theirs  # really the vendor's names
    feed = {"updated_at": plain.updated_at, "version": plain.version}
    again = motcua.to_canonical(to_default(theirs, vendor, feed=feed), procedures=InMemoryProcedureLookup({}))
    assert again == plain
