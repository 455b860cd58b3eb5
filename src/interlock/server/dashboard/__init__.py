"""The dashboard: server-rendered pages (Jinja2 + htmx) for reading where an agreement stands.

`router` serves `/`, `/agreements/{id}` and its pages, and `/assets/…` (CSS, JS and the
vendored htmx, so the pages work on a closed network); `analysis_page` adds the Analysis
page (`/agreements/{id}/analysis`, and `/analysis` for an uploaded draft).  The view-model modules
(`overview`, `obligation`, `conditions`, `records`, `incidents`, `chart`, `logview`) are pure
functions of the agreement, the engine's Status JSON, the entries and an explicit `now`.
See docs/dashboard.md.
"""

from interlock.server.dashboard.analysis_page import router as _analysis_router
from interlock.server.dashboard.routes import router

router.include_router(_analysis_router)

__all__ = ["router"]
