"""Model modules that areas other than the core hub add; importing this registers their tables on Base.metadata."""

from hub.admin import models as admin_models  # noqa: F401  (console sessions, incidents)
from schedules import models as schedules_models  # noqa: F401  (backfill progress, portal catalogues)
