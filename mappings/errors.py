"""Errors of records that cannot be mapped: each is a problem of that record, parked at once."""

from __future__ import annotations

from foundation.errors import PermanentError, Problem


class ValidationFailed(PermanentError):
    """Raised when a record fails our checks; ``problems`` lists every one of them at once."""

    error_class = "validation_failed"

    def __init__(self, problems: list[Problem], *, dossier_code: str | None = None, target: str | None = None) -> None:
        lines = "; ".join(str(p) for p in problems)
        who = dossier_code or "hồ sơ không rõ mã"
        super().__init__(
            f"Hồ sơ {who} không hợp lệ ({len(problems)} lỗi): {lines}",
            dossier_code=dossier_code,
            target=target,
        )
        self.problems = problems


class MappingMissing(PermanentError):
    """Raised when a local procedure code has no national procedure code (MaTTHC) mapped to it."""

    error_class = "mapping_missing"

    def __init__(self, local_procedure_code: str, *, dossier_code: str | None = None) -> None:
        super().__init__(
            f"Thủ tục {local_procedure_code!r} chưa được ánh xạ sang mã TTHC quốc gia "
            f"(no national procedure code for local code {local_procedure_code!r})",
            dossier_code=dossier_code,
        )
        self.local_procedure_code = local_procedure_code
