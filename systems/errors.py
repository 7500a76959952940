"""Errors of the system kinds' own reading, on the ground floor's tree (:mod:`foundation.errors`)."""

from __future__ import annotations

from foundation.errors import PermanentError


class CatalogueRecordInvalid(PermanentError):
    """Raised when a catalogue answer holds a record without a code or a name; the refresh changes nothing."""

    error_class = "catalogue_record_invalid"

    def __init__(self, message: str, *, service: str, index: int) -> None:
        super().__init__(message)
        self.service = service
        self.index = index
