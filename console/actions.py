"""The console's write actions, shared by the web pages, the JSON API and the CLI.

Each action calls the hub's own operation (replay, control, schedules, procedures). Those that audit themselves
(replay, control, schedules) are left to; the others get one audit entry here, so the record of what an
administrator did does not depend on which door they came through.
"""

from __future__ import annotations

from typing import Any

from console.auth import audit
from hub import control as hub_control
from hub import procedures, replay
from hub.store.db import Database
from hub.store.models import AuditAction
from schedules import control as schedules_control


class ActionError(RuntimeError):
    """Raised when an action cannot be done as asked; the message is for the administrator, Vietnamese first."""


def _audit(
    db: Database, user: str, action: str, subject: str | None, details: dict[str, Any] | None, client: str | None
) -> None:
    with db.session() as session:
        audit(session, user, action, subject, details, client=client)


def replay_message(db: Database, message_id: int, *, mode: str, user: str, client: str | None = None) -> int:
    """Replay one message; returns the new message's id."""
    return replay.replay_message(db, message_id, mode="fresh" if mode == "fresh" else "original", user=user)


def create_replay_job(db: Database, flt: dict[str, Any], *, mode: str, user: str, client: str | None = None) -> int:
    """Create a replay job over a filter (state "counted", total = the dry-run count) without starting it."""
    return replay.create_job(db, replay.ReplayFilter(**flt), mode="fresh" if mode == "fresh" else "original", user=user)


def dry_run(db: Database, flt: dict[str, Any]) -> int:
    """How many messages a replay over ``flt`` would send again."""
    return replay.count(db, replay.ReplayFilter(**flt))


def dry_run_causes(db: Database, flt: dict[str, Any]) -> list[replay.Cause]:
    """The dry run by cause, with how many will stop again for the same cause."""
    return replay.causes(db, replay.ReplayFilter(**flt))


def control_job(db: Database, job_id: int, verb: str, *, user: str, client: str | None = None) -> None:
    """Start (or resume), pause or cancel a replay job."""
    operations = {"start": replay.start_job, "pause": replay.pause_job, "cancel": replay.cancel_job}
    if verb not in operations:
        raise ActionError(f"Thao tác không hợp lệ {verb!r} cho lệnh chạy lại {job_id} (unknown job action)")
    operations[verb](db, job_id, user)


def job_progress(db: Database, job_id: int) -> dict[str, Any]:
    return replay.job_progress(db, job_id)


def pause_target(db: Database, target: str, *, reason: str, user: str) -> None:
    """Hold deliveries to a target; hub.control writes the audit entry itself."""
    hub_control.pause_target(db, target, reason=reason, user=user)


def resume_target(db: Database, target: str, *, user: str) -> int:
    """Resume a target and send its held messages again; returns how many (hub.control audits)."""
    return hub_control.resume_target(db, target, user=user)


def pause_schedule(db: Database, job_id: str, *, user: str) -> None:
    """Pause a periodic job; schedules.control writes the audit entry itself."""
    schedules_control.pause_job(db, job_id, user)


def resume_schedule(db: Database, job_id: str, *, user: str) -> None:
    schedules_control.resume_job(db, job_id, user)


MAPPING_MISSING = "mapping_missing"


def set_mapping(
    db: Database,
    local_code: str,
    national_code: str,
    *,
    procedure_name: str | None,
    field_code: str | None,
    user: str,
    replay_parked: bool,
    client: str | None = None,
) -> tuple[int, int | None]:
    """Map a local procedure code, and optionally replay everything parked for want of that mapping.

    Returns the mapping's new version and the replay job's id (None when nothing was to be replayed).
    """
    version = procedures.set_mapping(
        db, local_code, national_code, procedure_name=procedure_name, field_code=field_code, user=user
    )
    _audit(
        db,
        user,
        AuditAction.MAPPING_SET,
        version.local_code,
        {"national_code": version.target.national_code, "version": version.version},
        client,
    )
    if not replay_parked:
        return version.version, None
    flt = {"procedure_code": version.local_code, "error_class": MAPPING_MISSING, "state": "parked"}
    if dry_run(db, flt) == 0:
        return version.version, None
    job_id = create_replay_job(db, flt, mode="original", user=user, client=client)
    control_job(db, job_id, "start", user=user, client=client)
    return version.version, job_id


def import_mappings(db: Database, content: str, *, user: str, client: str | None = None) -> dict[str, int]:
    counts = procedures.import_csv(db, content, user=user)
    result = {"created": counts.created, "updated": counts.updated, "unchanged": counts.unchanged}
    _audit(db, user, AuditAction.MAPPING_IMPORT, None, result, client)
    return result
