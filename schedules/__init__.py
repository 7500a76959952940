"""When the hub works: periodic polls per (system, unit), daily catalogue refreshes and the late-dossier scan,
backfills of a date range, and the operator's pause and resume. Schedules decide *when* and only enqueue."""
