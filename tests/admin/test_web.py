"""The console over HTTP: sign-in, CSRF, roles, redaction for viewers, audit, metrics and the language switch."""

from __future__ import annotations

import re

import httpx
from sqlalchemy import select

from console.app import Console
from hub.store.db import Database
from hub.store.models import AuditEntry
from tests.admin import seed
from tests.admin.conftest import METRICS_TOKEN, csrf_of, login
from tests.conftest import Serve
from tests.servers import Live


def test_pages_need_a_session_and_redirect_to_login_with_the_way_back(client: httpx.Client) -> None:
    response = client.get(f"/dossiers/{seed.CODE}")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login?next=/dossiers/")
    assert client.get("/api/v1/messages").status_code == 401


def test_a_wrong_password_is_refused_and_both_attempts_are_audited(client: httpx.Client, db: Database) -> None:
    token = csrf_of(client)
    bad = client.post("/login", data={"username": "admin", "password": "sai-mật-khẩu!", "csrf": token})
    assert bad.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu" in bad.text
    login(client, "admin")
    with db.session() as session:
        actions = [a for (a,) in session.execute(select(AuditEntry.action).where(AuditEntry.username == "admin"))]
    assert actions == ["login.failed", "login"]


def test_a_form_without_the_csrf_token_is_refused(client: httpx.Client) -> None:
    login(client, "operator")
    response = client.post("/targets/dvcqg/pause", data={"reason": "bảo trì"})
    assert response.status_code == 403
    forged = client.post("/targets/dvcqg/pause", data={"reason": "bảo trì", "csrf": "forged"})
    assert forged.status_code == 403


def test_a_csrf_token_is_bound_to_its_session(client: httpx.Client, live: Live) -> None:
    # Given an operator signed in, and an attacker who planted a CSRF cookie of their own (a sibling subdomain can)
    real = login(client, "operator")
    client.cookies.set("dvc_csrf", "planted-by-the-attacker")
    # When a form carries the planted value, or the token of another signed-in session
    planted = client.post("/targets/dvcqg/pause", data={"reason": "bảo trì", "csrf": "planted-by-the-attacker"})
    with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as other:
        theirs = login(other, "operator")
    borrowed = client.post("/targets/dvcqg/pause", data={"reason": "bảo trì", "csrf": theirs})
    # Then both are refused, and the session's own token works
    assert planted.status_code == 403 and borrowed.status_code == 403
    assert client.post("/targets/dvcqg/pause", data={"reason": "bảo trì", "csrf": real}).status_code == 303


def test_production_cookies_carry_the_host_prefix(start_console: Serve, db: Database, seeded: seed.Seeded) -> None:
    for live in start_console(Console(db=db, production=True)):
        with httpx.Client(base_url=live.url, follow_redirects=False, timeout=10) as http:
            page = http.get("/login")
            csrf = page.cookies.get("__Host-dvc_csrf")  # httpx keeps it, though it would not send it back over http
            assert csrf is not None, page.headers.get_list("set-cookie")
            form = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert form is not None and form.group(1) == csrf
            signed = httpx.post(
                f"{live.url}/login",
                data={"username": "admin", "password": seed.PASSWORD, "csrf": csrf, "next": "/"},
                headers={"Cookie": f"__Host-dvc_csrf={csrf}"},
            )
    cookies = [*page.headers.get_list("set-cookie"), *signed.headers.get_list("set-cookie")]
    assert signed.status_code == 303, signed.text
    assert any(c.startswith("__Host-dvc_session=") for c in cookies), cookies
    for cookie in cookies:  # what a browser demands of a __Host- cookie
        attributes = cookie.lower()
        assert cookie.startswith("__Host-") and "secure" in attributes and "path=/" in attributes, cookie
        assert "domain=" not in attributes, cookie


def test_login_is_protected_by_csrf_too(client: httpx.Client) -> None:
    response = client.post("/login", data={"username": "admin", "password": seed.PASSWORD})
    assert response.status_code == 403


def test_the_viewer_sees_the_timeline_without_personal_data(client: httpx.Client, seeded: seed.Seeded) -> None:
    login(client, "viewer")
    page = client.get(f"/dossiers/{seed.PARKED_CODE}")
    assert page.status_code == 200
    assert seed.PARKED_CODE in page.text
    assert seed.APPLICANT not in page.text
    assert seed.ID_NUMBER not in page.text
    assert "0905123456" not in page.text
    assert 'data-replay="' not in page.text  # no replay button
    api = client.get(f"/api/v1/dossiers/{seed.PARKED_CODE}").text
    assert seed.APPLICANT not in api and seed.ID_NUMBER not in api
    message = client.get(f"/api/v1/messages/{seeded.parked_message}").text
    assert seed.APPLICANT not in message and seed.ID_NUMBER not in message


def test_the_operator_sees_payloads_and_the_diff_between_versions(client: httpx.Client) -> None:
    login(client, "operator")
    page = client.get(f"/dossiers/{seed.CODE}")
    assert seed.APPLICANT in page.text and seed.ID_NUMBER in page.text
    assert "summary" in page.text and "(bổ sung)" in page.text  # what changed from version 1 to 2


def test_a_viewer_cannot_replay_pause_or_manage_users(client: httpx.Client, seeded: seed.Seeded) -> None:
    token = login(client, "viewer")
    assert client.post(f"/messages/{seeded.parked_message}/replay", data={"csrf": token}).status_code == 403
    assert client.post("/targets/dvcqg/pause", data={"csrf": token, "reason": "x"}).status_code == 403
    api = client.post(
        f"/api/v1/messages/{seeded.parked_message}/replay", json={"mode": "original"}, headers={"X-CSRF-Token": token}
    )
    assert api.status_code == 403
    assert client.get("/users").status_code == 403


def test_pausing_a_target_is_shown_and_audited(client: httpx.Client, db: Database) -> None:
    token = login(client, "operator")
    response = client.post("/targets/dvcqg/pause", data={"csrf": token, "reason": "Cổng bảo trì"})
    assert response.status_code == 303
    assert "Cổng bảo trì" in client.get("/operations").text
    audit = client.get("/audit").text
    assert "target.pause" in audit and "operator" in audit
    client.post("/targets/dvcqg/resume", data={"csrf": token})
    with db.session() as session:
        actions = list(session.scalars(select(AuditEntry.action).where(AuditEntry.subject == "dvcqg")))
    assert actions == ["target.pause", "target.resume"]


def test_an_admin_creates_and_disables_a_user_whose_session_then_ends(
    live_url_client: tuple[httpx.Client, httpx.Client],
) -> None:
    admin, other = live_url_client
    token = login(admin, "admin")
    created = admin.post(
        "/users", data={"csrf": token, "username": "tram", "password": "mật-khẩu-mới-123", "role": "operator"}
    )
    assert created.status_code == 303
    other_token = csrf_of(other)
    signed_in = other.post(
        "/login", data={"username": "tram", "password": "mật-khẩu-mới-123", "csrf": other_token, "next": "/"}
    )
    assert signed_in.status_code == 303
    assert other.get("/").status_code == 200
    admin.post("/users/tram/disable", data={"csrf": token})
    assert other.get("/").status_code == 303  # back to the login page
    assert "user.create" in admin.get("/audit").text


def test_the_api_signs_in_with_a_bearer_token_and_needs_no_csrf(client: httpx.Client) -> None:
    token = client.post("/api/v1/session", json={"username": "operator", "password": seed.PASSWORD}).json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    page = client.get("/api/v1/messages", params={"dossier_code": seed.CODE}, headers=headers).json()
    assert [m["dossier_code"] for m in page["messages"]] == [seed.CODE]
    paused = client.post("/api/v1/targets/dvcqg/pause", json={"reason": "bảo trì"}, headers=headers)
    assert paused.status_code == 200
    assert client.get("/api/v1/targets", headers=headers).json()[0]["paused"] is True


def test_metrics_expose_backlog_parked_and_lag(client: httpx.Client) -> None:
    text = client.get("/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).text
    assert 'dvc_hub_parked_messages{target="dvcqg"} 1.0' in text
    assert 'dvc_hub_sync_lag_seconds{system="motcua-quangnam",unit="517"}' in text


def test_vietnamese_by_default_english_on_request(client: httpx.Client) -> None:
    login(client, "viewer")
    assert "Tổng quan" in client.get("/").text
    switched = client.get("/lang/en", params={"next": "/search"})
    assert switched.status_code == 303 and switched.headers["location"] == "/search"
    assert "Dashboard" in client.get("/").text
    assert client.get("/lang/en", params={"next": "//evil.example"}).headers["location"] == "/"


def test_the_bulk_replay_preview_counts_by_cause(client: httpx.Client, seeded: seed.Seeded) -> None:
    login(client, "operator")
    preview = client.post("/replay/preview", data={"csrf": csrf_of(client), "state": "parked"})
    assert preview.status_code == 200
    # the seeded portal refusal, by its cause: named in words, the code in the tooltip
    assert '<span class="term" title="remote_rejected">Hệ thống đối tác từ chối dữ liệu</span>: 1' in preview.text
