"""The console as an attacker and a careless portal would try it (issue 14): one test per point.

Personal data never reaches a viewer by any route; sign-in resists guessing and every failure is audited; responses
carry CSP, no-store and (in production) HSTS; /metrics needs its token; API docs come from this server; integers,
dates and bodies are bounded; proxy headers are believed only from configured proxies; the API can sign out.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pyotp
import pytest
import structlog
from sqlalchemy import func, select
from starlette.routing import Route

from console.app import Console, create_app
from console.auth import Role, ThrottlePolicy, UserError, check_password, create_user, password_context, set_totp
from console.hardening import CSP, server_config
from console.models import User
from foundation import logs
from foundation.clock import utcnow, vietnam_now
from foundation.redaction import mask_text, redact_data, redact_model
from foundation.topology import load
from hub.store.db import Database
from hub.store.models import Attempt, AuditEntry, Dossier, DossierVersion, Message, MessageState, ReplayJob
from mappings.canonical import Dossier as CanonicalDossier
from tests.admin import seed
from tests.admin.conftest import METRICS_TOKEN, csrf_of, login
from tests.conftest import TOPOLOGIES, Serve
from tests.servers import Live

# --- 1. personal data never reaches a viewer --------------------------------------------------------------------

CODE = "000.20.31.H47-241201-0099"
NAME = "Dương Văn Châu"
ID_NUMBER = "079203004567"
PHONE = "0912 345 678"
EMAIL = "chau.duong@example.vn"
ACCOUNT = "VNEID-7788990011"
ADDRESS = "Số 12 Phan Bội Châu, Tam Kỳ"
# Every form a value may take once a remote or a template has handled it.
SECRETS = [NAME, NAME.upper(), ID_NUMBER, PHONE, PHONE.replace(" ", ""), "912.345.678", EMAIL, ACCOUNT, ADDRESS]
CARRIER = f"{NAME}, CCCD {ID_NUMBER}, ĐT {PHONE}, email {EMAIL}"


def seed_personal(db: Database) -> tuple[int, int]:
    """A dossier whose every personal field, summary and remote text carries a name, an ID, a phone and an e-mail;
    plus a failed sign-in whose username is an ID number (typed into the wrong box)."""
    now = utcnow()
    record = {
        "code": CODE,
        "national_procedure_code": "1.001193",
        "status": 2,
        "summary": f"Đăng ký thường trú cho {CARRIER}",
        "applicant": {
            "name": NAME,
            "id_number": ID_NUMBER,
            "portal_account_id": ACCOUNT,
            "kind": 1,
            "email": EMAIL,
            "phone": PHONE,
            "fax": PHONE,
            "address": ADDRESS,
        },
    }
    portal_says = f"Cổng DVCQG từ chối: chủ hồ sơ {NAME.upper()} (CCCD {ID_NUMBER}, ĐT +84 912.345.678, email {EMAIL})"
    with db.session() as session:
        session.add(
            Dossier(
                code=CODE,
                receiving_unit="20965",
                local_procedure_code="NT-HT-009",
                status=2,
                version=1,
                content_hash="seed-personal",
                source_updated_at=now,
                data=record,
            )
        )
        session.add(DossierVersion(dossier_code=CODE, version=1, status=2, source_updated_at=now, data=record))
        payload = {"dossier_code": CODE, "version": 1, "target": "dvcqg", "record": record}
        message = Message(
            kind="deliver",
            actor="deliver_dossier",
            queue="deliver",
            state=MessageState.PARKED.value,
            dossier_code=CODE,
            dossier_version=1,
            unit_code="20965",
            procedure_code="NT-HT-009",
            target="dvcqg",
            attempts=1,
            error_class="remote_rejected",
            error_message=portal_says,
            remote_message=portal_says,
            payload=payload,
            payload_redacted={**payload, "record": redact_model(record, CanonicalDossier)},
            created_at=now,
            updated_at=now,
        )
        session.add(message)
        session.flush()
        session.add(
            Attempt(
                message_id=message.id,
                number=1,
                outcome="parked",
                started_at=now,
                finished_at=now,
                error_class="remote_rejected",
                error_message=f"{portal_says}; Authorization: Basic YWRtaW46bWF0LWtoYXU=",
                remote_message=portal_says,
                request={"ChuHoSo": NAME, "TrichYeuHoSo": record["summary"]},
                response={"error_code": "-1", "message": portal_says},
                # as the kinds store them: redacted by key, the portal's free text left under "message"
                request_redacted=redact_data({"ChuHoSo": NAME, "TrichYeuHoSo": record["summary"]}),
                response_redacted=redact_data({"error_code": "-1", "message": portal_says}),
            )
        )
        job = ReplayJob(filter={"dossier_code": CODE}, mode="original", state="waiting", created_by="operator")
        session.add(job)
        session.add(AuditEntry(username=ID_NUMBER, action="login.failed", subject=ID_NUMBER, client="127.0.0.1"))
        session.flush()
        return message.id, job.id


def _routes(routes: list[Any]) -> Iterator[Route]:
    for route in routes:
        included = getattr(route, "original_router", None)  # FastAPI wraps an included router
        if included is not None:
            yield from _routes(included.routes)
        elif isinstance(route, Route):
            yield route


def get_routes(app: Any, values: dict[str, Any]) -> Iterator[str]:
    """Every GET page and API route of the app, its path parameters filled from ``values``."""
    for route in _routes(app.routes):
        if "GET" not in (route.methods or set()):
            continue
        if route.path.startswith("/lang/"):
            continue  # a redirect that sets a cookie; nothing to read
        yield re.sub(r"\{(\w+)(?::\w+)?\}", lambda m: str(values[m.group(1)]), route.path)


def test_a_viewer_reads_no_personal_value_on_any_page_or_api_route(db: Database, live: Live) -> None:
    # Given a dossier whose every personal field and remote text carries personal values
    message_id, job_id = seed_personal(db)
    values = {"code": CODE, "message_id": message_id, "job_id": job_id, "target": "dvcqg", "lockout_id": 1}
    query = {"dossier_code": CODE, "local_code": "NT-HT-009", "state": "parked"}
    app = create_app(live.console)
    with httpx.Client(base_url=live.url, timeout=10) as viewer, httpx.Client(base_url=live.url, timeout=10) as op:
        login(viewer, "viewer")
        login(op, "operator")
        fetched = 0
        # When the viewer fetches every page and API route, bare and with the dossier's filters
        for path in get_routes(app, values):
            for params in ({}, query):
                response = viewer.get(path, params=params, follow_redirects=True)
                assert response.status_code < 500, path
                fetched += 1
                text = response.text
                # Then none of those values appears, in any form
                leaked = [s for s in SECRETS if s.casefold() in text.casefold()]
                assert not leaked, f"{path} {params}: {leaked}"
        assert fetched >= 40
        # and what is not personal in the remote text still reads: the viewer sees why the portal refused
        timeline = viewer.get(f"/api/v1/dossiers/{CODE}").json()
        assert timeline["messages"][0]["message"]["error_message"].startswith("Cổng DVCQG từ chối: chủ hồ sơ ***")
        assert "Basic [removed]" in timeline["messages"][0]["attempts"][0]["error_message"]
        # while the operator, whose role allows it, reads the original
        original = op.get(f"/api/v1/dossiers/{CODE}").json()["messages"][0]
        assert ID_NUMBER in original["message"]["error_message"] and NAME.upper() in original["remote_message"]


def test_failed_sign_in_names_are_shown_to_admins_only(db: Database, live: Live) -> None:
    seed_personal(db)
    with httpx.Client(base_url=live.url, timeout=10) as operator, httpx.Client(base_url=live.url, timeout=10) as admin:
        login(operator, "operator")
        login(admin, "admin")
        assert ID_NUMBER not in operator.get("/audit").text
        assert ID_NUMBER not in operator.get("/api/v1/audit").text
        assert ID_NUMBER in admin.get("/audit").text
        assert ID_NUMBER in admin.get("/api/v1/audit").text


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("CCCD 079203004567 và CMND 201234567", ["079203004567", "201234567"]),
        ("ĐT0912345678, ĐT: 0912 345 678, +84 912.345.678, 84912345678", ["912", "345", "678"]),
        ("liên hệ chau.duong+hs@so-tu-phap.quangnam.gov.vn", ["chau.duong", "quangnam.gov.vn"]),
        ("Authorization: Basic YWRtaW46c2VjcmV0 / bearer eyJhbGciOi.eyJzdWIi.sig", ["YWRtaW46c2VjcmV0", "eyJhbGciOi"]),
        ("chủ hồ sơ DƯƠNG VĂN CHÂU, địa chỉ số 12 phan bội châu, tam kỳ", ["DƯƠNG", "số 12 phan"]),
    ],
)
def test_free_text_from_a_remote_is_masked(text: str, hidden: list[str]) -> None:
    masked = mask_text(text, {NAME, ADDRESS})
    assert not [h for h in hidden if h in masked], masked


def test_masking_keeps_dossier_codes_dates_and_error_codes() -> None:
    text = "Hồ sơ 000.01.17.H47-240304-0001 ngày 2024-03-04 10:15 lỗi -1 (HTTP 422), mã TTHC 1.001193"
    assert mask_text(text, {NAME}) == text


# --- 2. sign-in resists guessing -----------------------------------------------------------------------------------


def _failures(db: Database, username: str) -> list[str]:
    """The refused sign-ins of ``username`` the audit records, one per attempt (its rows carry a count each)."""
    with db.session() as session:
        rows = session.execute(
            select(AuditEntry.action, AuditEntry.details)
            .where(AuditEntry.subject == username, AuditEntry.action.in_(["login.failed", "login.throttled"]))
            .order_by(AuditEntry.id)
        )
        return [action for action, details in rows for _ in range(int((details or {}).get("count", 1)))]


def test_thirty_wrong_passwords_lock_the_address_not_the_user_until_an_admin_lifts_it(db: Database, live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as http:
        # The admin signed in before the attack (the attack locks the address).
        admin = http.post("/api/v1/session", json={"username": "admin", "password": seed.PASSWORD}).json()["token"]
        statuses = [
            http.post("/api/v1/session", json={"username": "operator", "password": f"đoán-{i}-lần"}).status_code
            for i in range(30)
        ]
        right = http.post("/api/v1/session", json={"username": "operator", "password": seed.PASSWORD})
        # Free failures answer 401; then the pair and the address wait (429), the address growing to a lockout.
        assert statuses[:3] == [401, 401, 401]
        assert set(statuses) <= {401, 429} and statuses[-1] == 429
        assert right.status_code == 429 and int(right.headers["Retry-After"]) > 10 * 60
        # Every failure is in the audit, the API's included (none rolled back with the refused request).
        assert len(_failures(db, "operator")) == 31
        # The admin sees the address locked and the pair waiting, the account itself not locked (one address alone
        # never locks it), and lifts them; the right password then works at once.
        bearer = {"Authorization": f"Bearer {admin}"}
        locks = http.get("/api/v1/lockouts", headers=bearer).json()
        assert {(lock["kind"], lock["value"], lock["locked"]) for lock in locks} == {
            ("pair", "127.0.0.1|operator", False),
            ("client", "127.0.0.1", True),
        }
        for lock in locks:
            assert http.delete(f"/api/v1/lockouts/{lock['id']}", headers=bearer).status_code == 204
        again = http.post("/api/v1/session", json={"username": "operator", "password": seed.PASSWORD})
        assert again.status_code == 200
    with db.session() as session:
        assert session.scalar(select(func.count()).where(AuditEntry.action == "login.unlock")) == 2


def test_a_lockout_is_shown_on_the_users_page_and_lifted_there(db: Database, live: Live) -> None:
    with httpx.Client(base_url=live.url, timeout=10) as admin, httpx.Client(base_url=live.url, timeout=10) as other:
        token = login(admin, "admin")
        form = csrf_of(other)
        for _ in range(10):
            other.post("/login", data={"username": "viewer", "password": "không-phải-mật-khẩu", "csrf": form})
        refused = other.post("/login", data={"username": "viewer", "password": seed.PASSWORD, "csrf": form})
        assert refused.status_code == 429 and "thử lại sau" in refused.text
        page = admin.get("/users").text
        lock_ids = re.findall(r'action="/lockouts/(\d+)/lift"', page)
        # The user at this address and the address (below its own limit) wait a growing delay, neither locked (one
        # address never locks an account): both listed, both lifted.
        assert len(lock_ids) == 2 and "127.0.0.1|viewer" in page and page.count("lock</span>") == 0
        for lock_id in lock_ids:
            admin.post(f"/lockouts/{lock_id}/lift", data={"csrf": token})
        assert (
            other.post("/login", data={"username": "viewer", "password": seed.PASSWORD, "csrf": form}).status_code
            == 303
        )


def test_the_delay_grows_before_the_lockout() -> None:
    policy = ThrottlePolicy()
    waits = [policy.wait(n, policy.user_lockout_after) for n in range(1, 11)]
    assert waits[:3] == [(None, False)] * 3
    delays = [w for w, locked in waits[3:9] if w is not None and not locked]
    assert delays == [timedelta(seconds=s) for s in (1, 2, 4, 8, 16, 32)]
    assert waits[9] == (timedelta(minutes=15), True)


@pytest.mark.parametrize(
    "password",
    ["aaaaaaaaaaaa", "password1234", "quantri12345", "operator-operator", "short-1!", "dvchub2024dvchub"],
)
def test_weak_common_and_context_passwords_are_refused(password: str) -> None:
    with pytest.raises(UserError):
        check_password("operator", password)


def test_a_long_unguessable_password_is_accepted() -> None:
    check_password("operator", "ruộng-lúa-xanh-mướt-ven-sông-Thu-Bồn")


def test_an_admin_with_a_totp_secret_needs_the_current_code(db: Database, live: Live) -> None:
    with db.session() as session:
        uri = set_totp(session, "admin", enable=True, actor="test")
    assert uri is not None
    secret = pyotp.parse_uri(uri).secret
    with httpx.Client(base_url=live.url, timeout=10) as http:
        without = http.post("/api/v1/session", json={"username": "admin", "password": seed.PASSWORD})
        wrong = http.post("/api/v1/session", json={"username": "admin", "password": seed.PASSWORD, "totp": "000000"})
        code = pyotp.TOTP(secret).now()
        right = http.post("/api/v1/session", json={"username": "admin", "password": seed.PASSWORD, "totp": code})
    assert without.status_code == 401 and wrong.status_code == 401 and right.status_code == 200


def test_a_totp_code_works_once(db: Database, live: Live) -> None:
    with db.session() as session:
        uri = set_totp(session, "admin", enable=True, actor="test")
    assert uri is not None
    code = pyotp.TOTP(pyotp.parse_uri(uri).secret).now()
    body = {"username": "admin", "password": seed.PASSWORD, "totp": code}
    with httpx.Client(base_url=live.url, timeout=10) as http:
        first = http.post("/api/v1/session", json=body)
        again = http.post("/api/v1/session", json=body)  # a code seen over a shoulder or replayed from a proxy log
    assert first.status_code == 200 and again.status_code == 401


def test_enabling_totp_ends_the_users_sessions_and_api_tokens(db: Database, live: Live) -> None:
    # Given the admin signed in twice with the password alone: a browser session and an API token
    with httpx.Client(base_url=live.url, timeout=10) as browser, httpx.Client(base_url=live.url, timeout=10) as api:
        login(browser, "admin")
        token = api.post("/api/v1/session", json={"username": "admin", "password": seed.PASSWORD}).json()["token"]
        bearer = {"Authorization": f"Bearer {token}"}
        assert browser.get("/users").status_code == 200
        assert api.get("/api/v1/targets", headers=bearer).status_code == 200

        # When a second factor is enabled for them
        with db.session() as session:
            set_totp(session, "admin", enable=True, actor="test")

        # Then neither opens anything any more
        assert browser.get("/users", follow_redirects=False).status_code in (302, 303, 401)
        assert api.get("/api/v1/targets", headers=bearer).status_code == 401


# --- 3. metrics, docs and headers ----------------------------------------------------------------------------------


def test_metrics_without_the_token_are_refused(client: httpx.Client) -> None:
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status_code == 200


def test_metrics_are_not_served_by_the_console_without_a_configured_token(start_console: Serve, db: Database) -> None:
    for live in start_console(Console(db=db)):
        assert httpx.get(f"{live.url}/metrics").status_code == 404


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_metrics_token_is_no_token_and_an_empty_bearer_opens_nothing(
    start_console: Serve, db: Database, blank: str
) -> None:
    for live in start_console(Console(db=db, metrics_token=blank)):
        # A server strips the value's trailing whitespace: "Bearer " arrives as "Bearer", an empty token.
        for header in ("Bearer", "bearer"):
            assert httpx.get(f"{live.url}/metrics", headers={"Authorization": header}).status_code == 404, header


def test_an_empty_bearer_is_refused_when_a_token_is_configured(client: httpx.Client) -> None:
    for header in ("Bearer", "bearer"):
        assert client.get("/metrics", headers={"Authorization": header}).status_code == 401, header


def test_api_docs_reference_no_external_host_and_their_assets_are_served(client: httpx.Client) -> None:
    page = client.get("/api/docs")
    assert page.status_code == 200
    links = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert links and all(link.startswith("/") and not link.startswith("//") for link in links), links
    for link in links:
        asset = client.get(link)
        assert asset.status_code == 200 and "//cdn" not in asset.text[:5000], link


def test_every_html_page_carries_the_csp_and_no_store(db: Database, live: Live) -> None:
    message_id, job_id = seed_personal(db)
    values = {"code": CODE, "message_id": message_id, "job_id": job_id, "target": "dvcqg", "lockout_id": 1}
    with httpx.Client(base_url=live.url, timeout=10) as admin:
        login(admin, "admin")
        pages = 0
        for path in [*get_routes(create_app(live.console), values), "/login", "/no-such-page"]:
            response = admin.get(path)
            if response.headers.get("content-type", "").startswith("text/html"):
                pages += 1
                assert response.headers["content-security-policy"] == CSP, path
                assert "unsafe-inline" not in CSP
                assert response.headers["cache-control"] == "no-store", path
                assert "<script>" not in response.text and " style=" not in response.text, path
            elif path.startswith("/api/"):
                assert response.headers["cache-control"] == "no-store", path
        assert pages >= 12
    assert "Strict-Transport-Security" not in admin.headers


def test_production_adds_hsts_and_turns_the_api_docs_off(start_console: Serve, db: Database) -> None:
    seed.users(db)
    for live in start_console(Console(db=db, production=True)):
        response = httpx.get(f"{live.url}/login")
        assert response.headers["strict-transport-security"].startswith("max-age=")
        assert httpx.get(f"{live.url}/api/docs").status_code == 404


def _carries_the_security_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url.path} -> {response.status_code}"
    assert response.headers.get("content-security-policy") == CSP, where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("referrer-policy") == "same-origin", where
    assert response.headers.get("cache-control") == "no-store", where
    assert response.headers.get("strict-transport-security", "").startswith("max-age="), where


def test_error_responses_carry_the_security_headers_too(start_console: Serve, sqlite_url: str) -> None:
    # Given a production console whose database has no tables (a failed migration): every sign-in is a server error
    broken = Database(sqlite_url)
    for live in start_console(Console(db=broken, production=True, max_body_bytes=1000)):
        # When each kind of error is asked for, on a connection of its own (the server closes one after a 500 or 413)
        asked: list[tuple[str, str, dict[str, Any]]] = [
            ("POST", "/api/v1/session", {"json": {"username": "admin", "password": "x"}}),  # 500, the API
            ("GET", "/", {"headers": {"Cookie": "__Host-dvc_session=a-session-token"}}),  # 500, a page
            ("POST", "/api/v1/session", {"content": b"x" * 2000}),  # 413, refused before the application
            ("GET", "/no-such-page", {}),  # 404
            ("DELETE", "/login", {}),  # 405
            ("GET", f"/api/v1/messages/{10**30}", {}),  # 401 before 422
        ]
        answers = [httpx.request(method, live.url + path, timeout=10, **kw) for method, path, kw in asked]
        # Then each says so with the headers every normal answer carries
        assert [a.status_code for a in answers] == [500, 500, 413, 404, 405, 401]
        for answer in answers:
            _carries_the_security_headers(answer)
        assert "máy chủ" in answers[0].json()["detail"] and "máy chủ" in answers[1].text


def test_in_production_the_openapi_schema_is_served_only_to_a_signed_in_user(
    start_console: Serve, db: Database
) -> None:
    seed.users(db)
    for live in start_console(Console(db=db, production=True)):
        with httpx.Client(base_url=live.url, timeout=10) as http:
            stranger = http.get("/api/v1/openapi.json")
            token = http.post("/api/v1/session", json={"username": "viewer", "password": seed.PASSWORD}).json()
            signed_in = http.get("/api/v1/openapi.json", headers={"Authorization": f"Bearer {token['token']}"})
    assert stranger.status_code == 401 and "paths" not in stranger.text
    assert signed_in.status_code == 200 and "/api/v1/messages" in signed_in.json()["paths"]


def test_outside_production_the_openapi_schema_stays_public(client: httpx.Client) -> None:
    assert client.get("/api/v1/openapi.json").status_code == 200


# --- bounded inputs, body limit, proxy headers, logout, logs --------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/api/v1/audit", {"before_id": 10**30}),
        ("/api/v1/messages", {"before_id": 2**63}),
        ("/api/v1/messages", {"until": "0001-01-01T00:00:00"}),
        ("/api/v1/messages", {"since": "9999-12-31T23:59:59+14:00"}),
        (f"/api/v1/messages/{10**30}", {}),
        (f"/api/v1/replay-jobs/{2**63}", {}),
    ],
)
def test_huge_integers_and_dates_are_refused_with_422(client: httpx.Client, path: str, params: dict[str, Any]) -> None:
    login(client, "viewer")
    assert client.get(path, params=params).status_code == 422


@pytest.mark.parametrize(
    ("path", "params"),
    [("/audit", {"before_id": 10**30}), (f"/messages/{10**30}", {}), ("/search", {"before_id": 10**30})],
)
def test_pages_refuse_huge_integers_without_a_server_error(
    client: httpx.Client, path: str, params: dict[str, Any]
) -> None:
    login(client, "viewer")
    response = client.get(path, params=params)
    assert response.status_code in {200, 422}  # the search page shows the filter's error in place
    assert response.status_code == 422 or "before_id" in response.text


def test_a_replay_form_with_an_out_of_range_date_is_refused_not_crashed(client: httpx.Client) -> None:
    token = login(client, "operator")
    for since in ("0001-01-01T00:00", "not a date"):
        response = client.post("/replay/preview", data={"csrf": token, "since": since})
        assert response.status_code == 409 and "since" in response.text, since


def test_a_large_body_is_refused_before_it_is_read(client: httpx.Client) -> None:
    big = b'{"username": "admin", "password": "' + b"x" * 2_000_000 + b'"}'
    sized = client.post("/api/v1/session", content=big, headers={"content-type": "application/json"})
    assert sized.status_code == 413

    def chunks() -> Iterator[bytes]:
        yield big[:1000]
        for start in range(1000, len(big), 64 * 1024):
            yield big[start : start + 64 * 1024]

    streamed = client.post("/api/v1/session", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    small = client.post(
        "/api/v1/session",
        content=b'{"username":"admin","password":"x"}',
        headers={"content-type": "application/json"},
    )
    assert small.status_code == 401


def test_forwarded_addresses_are_believed_only_from_configured_proxies(start_console: Serve, db: Database) -> None:
    seed.users(db)
    spoofed = {"X-Forwarded-For": "203.0.113.9"}
    for live in start_console(Console(db=db)):
        httpx.post(f"{live.url}/api/v1/session", json={"username": "nobody", "password": "x"}, headers=spoofed)
    for live in start_console(Console(db=db), trusted_proxies=("127.0.0.1",)):
        httpx.post(f"{live.url}/api/v1/session", json={"username": "proxied", "password": "x"}, headers=spoofed)
    with db.session() as session:
        clients = dict(
            session.execute(
                select(AuditEntry.subject, AuditEntry.client).where(AuditEntry.action == "login.failed")
            ).all()
        )
    assert clients == {"nobody": "127.0.0.1", "proxied": "203.0.113.9"}


def test_the_api_signs_out(client: httpx.Client) -> None:
    token = client.post("/api/v1/session", json={"username": "viewer", "password": seed.PASSWORD}).json()["token"]
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/targets", headers=bearer).status_code == 200
    assert client.delete("/api/v1/session", headers=bearer).status_code == 204
    assert client.get("/api/v1/targets", headers=bearer).status_code == 401


def test_uvicorn_errors_are_json_lines_in_production(capsys: pytest.CaptureFixture[str]) -> None:
    root = logging.getLogger()
    saved = root.handlers[:], root.level
    try:
        logs.configure("INFO", "json")
        server_config(create_app(Console(db=Database("sqlite://"))), host="127.0.0.1", port=0)
        try:
            raise RuntimeError("boom")
        except RuntimeError:
            logging.getLogger("uvicorn.error").exception("Exception in ASGI application")
        line = capsys.readouterr().err.strip().splitlines()[-1]
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        structlog.reset_defaults()
    event = json.loads(line)
    assert event["event"] == "Exception in ASGI application" and "RuntimeError: boom" in event["exception"]


def _disabled(db: Database, username: str) -> bool:
    with db.session() as session:
        return bool(session.scalar(select(User.disabled).where(User.username == username)))


def test_only_enable_and_disable_change_a_user_and_no_other_verb_enables(db: Database, client: httpx.Client) -> None:
    csrf = login(client, "admin")
    # Given a user the admin disabled through the users page's own form
    assert client.post("/users/viewer/disable", data={"csrf": csrf}).status_code == 303
    assert _disabled(db, "viewer")
    # When anything else is posted as the action
    for verb in ("anything", "enablex", "Enable", "delete"):
        answer = client.post(f"/users/viewer/{verb}", data={"csrf": csrf})
        # Then there is no such route and the user stays disabled
        assert answer.status_code in {404, 405}, verb
        assert _disabled(db, "viewer"), verb
    # while the real action still works
    assert client.post("/users/viewer/enable", data={"csrf": csrf}).status_code == 303
    assert not _disabled(db, "viewer")


@pytest.mark.parametrize(
    ("topology", "password"),
    [
        ("quang-nam-2023.yaml", "Quangnam@{year}"),
        ("quang-nam-2023.yaml", "TAMKY.{year}.tamky"),
        ("quang-nam-2023.yaml", "Núi-Thành#{year}!"),
        ("da-nang-2025.yaml", "Danang@{year}!"),
        ("da-nang-2025.yaml", "Đà Nẵng {year} ơi"),
    ],
)
def test_the_admin_cannot_give_a_password_made_of_the_province_s_places_and_the_year(
    start_console: Serve, db: Database, topology: str, password: str
) -> None:
    # Given the console of a province, its units in the topology
    seed.users(db)
    for live in start_console(Console(db=db, topology=load(TOPOLOGIES / topology))):
        with httpx.Client(base_url=live.url, timeout=10) as admin:
            csrf = login(admin, "admin")
            # When the admin gives a new user a password built from a place name and this year
            chosen = password.format(year=vietnam_now().year)
            answer = admin.post("/users", data={"csrf": csrf, "username": "tram", "password": chosen, "role": "viewer"})
    # Then the console refuses it, saying why, and creates no user
    assert answer.status_code == 303 and "error=" in answer.headers["location"], chosen
    with db.session() as session:
        assert session.scalar(select(User.id).where(User.username == "tram")) is None


def test_place_names_refuse_only_passwords_that_contain_them() -> None:
    context = password_context(load(TOPOLOGIES / "quang-nam-2023.yaml"), year=2023)
    assert {"quangnam", "tamky", "nuithanh", "2023"} <= set(context)
    with pytest.raises(UserError, match="địa danh"):
        check_password("operator", "quangnam-2023-ok?", context)
    check_password("operator", "ruộng-lúa-xanh-mướt-ven-sông-Thu-Bồn", context)


def test_create_user_applies_the_policy(db: Database) -> None:
    with db.session() as session, pytest.raises(UserError, match="12"):
        create_user(session, "tram", "ngắn-quá", Role.VIEWER)
