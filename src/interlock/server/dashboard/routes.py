"""The dashboard's HTTP routes: server-rendered pages under `/` and `/agreements/{id}/…`.

The imperative shell of the dashboard: reads the clock (or `as_of`), asks the
`DashboardSource` for entries and status, hands them to the pure view-model builders and
renders Jinja2 templates.  Every page takes `?as_of=` (time travel).  Live pages poll
themselves with htmx; a poll answers `204 No Content` when nothing changed, so an idle page
costs one small request every few seconds.
"""

from __future__ import annotations

import functools
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jinja2
from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from interlock.agreement import Agreement
from interlock.errors import BadParameterError, InterlockError
from interlock.server.dashboard import humanize
from interlock.server.dashboard.facts import StatusFacts, read_status
from interlock.server.dashboard.incidents import build_incidents
from interlock.server.dashboard.labels import ENTRY_TYPES, OBLIGATION_STATES, STAGE_STATES
from interlock.server.dashboard.logview import read_checkpoint
from interlock.server.dashboard.obligation import build_obligation
from interlock.server.dashboard.overview import build_overview
from interlock.server.dashboard.proposals import Pending, pending
from interlock.server.dashboard.records import EntryView, filter_entries, read_entries, resummarise
from interlock.server.dashboard.source import DashboardSource, sources_of
from interlock.server.dashboard.versions import Versions, in_force, name_of, parties_ever, removed_by
from interlock.server.reads import parse_as_of
from interlock.timeutil import parse_timestamp

HERE = Path(__file__).parent
STATIC = HERE / "static"
ASSETS = {p.name: p for p in STATIC.iterdir() if p.is_file()} if STATIC.is_dir() else {}
MEDIA = {".css": "text/css", ".js": "text/javascript", ".txt": "text/plain", ".svg": "image/svg+xml"}
POLL_SECONDS = 5
TIME_REFRESH = timedelta(seconds=60)  # pages whose words depend on the clock re-render this often
PAGE = 200  # entries per timeline / log page
ENTRY_REFS = re.compile(r"\b(entry|entries) (\d+(?:, \d+)*)")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

env = jinja2.Environment(
    loader=jinja2.FileSystemLoader(HERE / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
env.filters["when"] = humanize.when
env.filters["iso"] = humanize.iso
env.filters["wall"] = humanize.wall
env.filters["zoned"] = humanize.zoned
env.filters["number"] = humanize.number
env.globals["ENTRY_TYPES"] = ENTRY_TYPES
env.globals["OBLIGATION_STATES"] = OBLIGATION_STATES
env.globals["STAGE_STATES"] = STAGE_STATES

router = APIRouter(include_in_schema=False)


class PageError(Exception):
    """A page that cannot be shown: rendered as a plain HTML error with its status."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(message)
        self.status, self.title, self.message = status, title, message


def _clock(request: Request) -> datetime:
    clock = getattr(request.app.state, "clock", None)
    return clock() if callable(clock) else datetime.now(UTC)


def _source(request: Request, agreement_id: str) -> DashboardSource:
    source = sources_of(request.app).get(agreement_id)
    if source is None:
        raise PageError(404, "No such agreement", f"This server holds no agreement with the id {agreement_id!r}.")
    return source


def _as_of(request: Request, now: datetime, timezone: str) -> tuple[datetime, bool, str | None]:
    """(moment to judge at, is it time travel, a notice for the reader).

    `?as_of=` is read exactly as the API reads it: a time without an offset is a wall-clock
    time in the agreement's `timezone`, so one URL parameter names one moment in both."""
    text = request.query_params.get("as_of", "").strip()
    if not text:
        return now, False, None
    try:
        moment = parse_as_of(text, timezone, now)  # the API's reading and bounds
    except BadParameterError as err:
        raise PageError(400, "Not a time", f"{text!r} is not a time this page can show ({err.message}); "
                        f"use a form like 2026-03-05T12:00 (read in the agreement's time zone, {timezone}) "
                        "or 2026-03-05T12:00Z.") from None
    if moment >= now:
        return now, False, "That moment has not happened yet; showing the agreement as it stands now."
    return moment, True, None


def _lines(source: DashboardSource, size: int) -> list[dict[str, Any]]:
    out = list[dict[str, Any]]()
    while len(out) < size:
        chunk = source.entries(len(out), min(1000, size - len(out)))
        if not chunk:
            break
        out.extend(chunk)
    return out


def _visible(lines: list[dict[str, Any]], at: datetime) -> list[dict[str, Any]]:
    """The entries integrated at or before `at` (integration times never decrease)."""
    return [x for x in lines if humanize.moment(x.get("integrated_at")) is not None
            and humanize.moment(x.get("integrated_at")) <= at]  # type: ignore[operator]


def _versions(base: Agreement, facts: StatusFacts, lines: list[dict[str, Any]]) -> tuple[Versions, list[EntryView]]:
    """The version in force per the engine's status, and the entries worded under it."""
    entries = read_entries(lines, base, dict(facts.rejected))
    versions = in_force(base, facts.agreement, entries)
    if versions.agreement is not base:
        entries = resummarise(entries, versions.all)
    return versions, entries


class Context:
    """Everything every page needs: the agreement in force at the moment, the moment, the
    visible entries, status.  `base` is the agreement as registered; `agreement` the version
    the engine judged the log under at `at` (they differ once an amendment took effect)."""

    def __init__(self, request: Request, agreement_id: str) -> None:
        self.request = request
        self.source = _source(request, agreement_id)
        self.base = self.source.agreement
        self.id = self.base.id
        self.clock = _clock(request)
        # read in the registered agreement's zone, as the API reads it
        self.at, self.travel, self.notice = _as_of(request, self.clock, self.base.timezone)
        self.size = self.source.size()

    # Loaded on first use, so that a poll answered with 204 reads nothing but the log's size.
    @functools.cached_property
    def all_lines(self) -> list[dict[str, Any]]:
        return _lines(self.source, self.size)

    @functools.cached_property
    def lines(self) -> list[dict[str, Any]]:
        return _visible(self.all_lines, self.at) if self.travel else self.all_lines

    @functools.cached_property
    def facts(self) -> StatusFacts:
        return read_status(self.source.status(self.at))

    @functools.cached_property
    def _read(self) -> tuple[Versions, list[EntryView]]:
        return _versions(self.base, self.facts, self.lines)

    @property
    def versions(self) -> Versions:
        return self._read[0]

    @property
    def agreement(self) -> Agreement:
        """The version in force at `at`."""
        return self._read[0].agreement

    @property
    def entries(self) -> list[EntryView]:
        return self._read[1]

    @functools.cached_property
    def proposals(self) -> tuple[Pending, ...]:
        """The amendments proposed and not in force at `at` (the engine's open proposals)."""
        return pending(self.versions, self.entries)

    def unchanged_poll(self, refresh: timedelta | None) -> bool:
        """A live poll that would show exactly what the reader already has."""
        if self.travel or "hx-request" not in self.request.headers:
            return False
        known = self.request.query_params.get("known")
        if known != str(self.size):
            return False
        if refresh is None:
            return True
        rendered = self.request.query_params.get("rendered", "")
        try:
            return self.clock - parse_timestamp(rendered) < refresh
        except InterlockError:
            return False

    def keep(self) -> dict[str, str]:
        """The query parameters that choose what a page shows (filters), without the moment."""
        return {k: v for k, v in self.request.query_params.items()
                if k not in ("as_of", "known", "rendered", "page") and v}

    def link_entries(self, text: str) -> Markup:
        """`text` escaped, with every `entry 4` / `entries 4, 8` turned into links."""

        def numbers(match: re.Match[str]) -> str:
            links = [f'<a href="{escape(self.url(f"/agreements/{self.id}/entries/{n}"))}">{n}</a>'
                     for n in match.group(2).split(", ")]
            return f"{match.group(1)} {', '.join(links)}"

        return Markup(ENTRY_REFS.sub(numbers, str(escape(text))))

    def url(self, path: str, **params: Any) -> str:
        """A link inside the dashboard that keeps the time-travel moment."""
        query = {k: v for k, v in params.items() if v not in (None, "")}
        if self.travel:
            query["as_of"] = humanize.iso(self.at)
        base = self.request.scope.get("root_path", "")
        return f"{base}{path}" + (f"?{urlencode(query)}" if query else "")

    def page(self, template: str, title: str, section: str, **values: Any) -> Response:
        aid = self.id
        times = [humanize.moment(x.get("integrated_at")) for x in self.all_lines]
        steps = sorted({t for t in times if t is not None})
        before = [t for t in steps if t < self.at]
        after = [t for t in steps if t > self.at]
        context = {
            "title": title,
            "section": section,
            "agreement": self.agreement,
            "zone": self.base.timezone,
            "versions": self.versions,
            "proposals": self.proposals,
            "aid": aid,
            "at": self.at,
            "travel": self.travel,
            "notice": self.notice,
            "clock": self.clock,
            "size": self.size,
            "visible": len(self.lines),
            "url": self.url,
            "root": self.request.scope.get("root_path", ""),
            "path": self.request.url.path,
            "here": self.request.url.path + (f"?{urlencode(self.keep())}" if self.keep() else ""),
            "keep": self.keep(),
            "travel_to": lambda at: self.request.url.path + "?" + urlencode({**self.keep(), "as_of": humanize.iso(at)}),
            "poll": POLL_SECONDS,
            "party_name": lambda pid: name_of(self.versions, pid),
            "prev_step": before[-1] if before else None,
            "next_step": after[0] if self.travel and after else None,
            "first_step": steps[0] if steps else None,
            "api": f"{self.request.scope.get('root_path', '')}/v1/agreements/{aid}",
            "asset": asset_url(self.request),
            "link_entries": self.link_entries,
            **values,
        }
        html = env.get_template(template).render(context)
        return HTMLResponse(html, headers=_headers())


def _headers() -> dict[str, str]:
    return {"Content-Security-Policy": CSP, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
            "Referrer-Policy": "no-referrer"}


def asset_url(request: Request) -> Any:
    base = request.scope.get("root_path", "")
    return lambda name: f"{base}/assets/{name}"


def _error(request: Request, err: PageError) -> HTMLResponse:
    html = env.get_template("error.html").render(
        title=err.title, message=err.message, asset=asset_url(request), status=err.status,
    )
    return HTMLResponse(html, status_code=err.status, headers=_headers())


def _guard(handler: Any) -> Any:
    """Turn `PageError` and `InterlockError` into HTML error pages (never a traceback).

    Handlers are plain functions: FastAPI runs them in its thread pool, so the store's
    blocking reads never stall the event loop."""

    @functools.wraps(handler)
    def wrapped(request: Request, *args: Any, **kwargs: Any) -> Response:
        try:
            response: Response = handler(request, *args, **kwargs)
            return response
        except PageError as err:
            return _error(request, err)
        except InterlockError as err:
            return _error(request, PageError(err.http_status or 400, "Cannot show this page", err.message))

    return wrapped


@router.get("/assets/{name}")
async def asset(name: str) -> Response:
    path = ASSETS.get(name)
    if path is None:
        return Response("no such asset\n", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=MEDIA.get(path.suffix, "application/octet-stream"),
                        headers={"Cache-Control": "public, max-age=3600", "X-Content-Type-Options": "nosniff"})


@router.get("/", response_class=HTMLResponse)
@_guard
def index(request: Request) -> Response:
    now = _clock(request)
    rows = []
    for aid, source in sources_of(request.app).items():
        size = source.size()
        facts = read_status(source.status(now))
        agreement, proposals = source.agreement, tuple[Pending, ...]()
        # the entries are read only for a log with an `amend`: amended (the engine's hash differs)
        # or perhaps with a proposal open; then laid out and folded as the agreement pages do
        if facts.agreement not in (None, agreement.hash) or source.has_amend():
            versions, entries = _versions(agreement, facts, _lines(source, size))
            agreement, proposals = versions.agreement, pending(versions, entries)
        stages = [(i, s.title or s.id, facts.stage(s.id).state) for i, s in enumerate(agreement.stages, 1)]
        rows.append({"id": aid, "title": agreement.title, "stages": stages, "size": size,
                     "amended": agreement is not source.agreement,
                     "proposals": [(p.hash, len(p.signed), len(p.signed) + len(p.missing)) for p in proposals]})
    html = env.get_template("index.html").render(
        title="Agreements", rows=rows, now=now, asset=asset_url(request), root=request.scope.get("root_path", ""),
        STAGE_STATES=STAGE_STATES,
    )
    return HTMLResponse(html, headers=_headers())


@router.get("/agreements/{agreement_id}/", response_class=HTMLResponse)
def overview_slash(request: Request, agreement_id: str) -> Response:
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{request.scope.get('root_path', '')}/agreements/{agreement_id}{query}", 308)


@router.get("/agreements/{agreement_id}", response_class=HTMLResponse)
@_guard
def overview(request: Request, agreement_id: str) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(TIME_REFRESH):
        return Response(status_code=204)
    view = build_overview(ctx.agreement, ctx.facts, ctx.entries, ctx.at)
    return ctx.page("overview.html", ctx.agreement.title, "overview", view=view)


@router.get("/agreements/{agreement_id}/obligations/{obligation_id}", response_class=HTMLResponse)
@_guard
def obligation(request: Request, agreement_id: str, obligation_id: str) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(TIME_REFRESH):
        return Response(status_code=204)
    view = build_obligation(ctx.agreement, obligation_id, ctx.facts, ctx.entries, ctx.at)
    if view is None:
        removal = removed_by(ctx.versions, obligation_id)
        if removal is not None:
            raise PageError(404, "Obligation removed by an amendment",
                            f"The amendment that took effect at entry {removal.index} ({humanize.when(removal.at)}) "
                            f"removed the obligation {obligation_id!r}: the version in force ({removal.new}) has no "
                            "such obligation. Show this page as of a moment before then to see it under the "
                            "earlier version.")
        raise PageError(404, "No such obligation", f"This agreement has no obligation {obligation_id!r}.")
    explained = ctx.source.explain(obligation_id, ctx.at, ctx.agreement)
    lines = [x for x in explained if not x.lstrip().startswith("text:")]
    return ctx.page("obligation.html", f"{obligation_id} — {ctx.agreement.title}", "overview",
                    view=view, engine_lines=lines)


@router.get("/agreements/{agreement_id}/timeline", response_class=HTMLResponse)
@_guard
def timeline(request: Request, agreement_id: str) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(None):
        return Response(status_code=204)
    q = request.query_params
    party, kind, oid = q.get("party") or None, q.get("type") or None, q.get("obligation") or None
    chosen = filter_entries(ctx.entries, party=party, kind=kind, obligation=oid)
    chosen.reverse()  # newest first
    try:
        page = max(1, int(q.get("page", "1")))
    except ValueError:
        page = 1
    shown = chosen[(page - 1) * PAGE : page * PAGE]
    filters = {"party": party, "type": kind, "obligation": oid}
    return ctx.page(
        "timeline.html", f"Timeline — {ctx.agreement.title}", "timeline",
        shown=shown, total=len(chosen), filters=filters, page_no=page, pages=max(1, -(-len(chosen) // PAGE)),
        obligations=[ob.id for _, ob in ctx.agreement.obligations()], parties=parties_ever(ctx.versions),
    )


@router.get("/agreements/{agreement_id}/incidents", response_class=HTMLResponse)
@_guard
def incidents(request: Request, agreement_id: str) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(None):
        return Response(status_code=204)
    view = build_incidents(ctx.agreement, ctx.facts, ctx.entries)
    return ctx.page("incidents.html", f"Incidents and disputes — {ctx.agreement.title}", "incidents",
                    view=view)


@router.get("/agreements/{agreement_id}/log", response_class=HTMLResponse)
@_guard
def log(request: Request, agreement_id: str) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(None):
        return Response(status_code=204)
    info = ctx.source.checkpoint()
    previous = ctx.source.previous_checkpoint()
    checkpoint = read_checkpoint(info.note) if info else None
    before = read_checkpoint(previous.note) if previous else None
    consistent = None
    if info and previous and previous.size and previous.size < info.size:
        from interlock.tlog import verify_consistency

        try:
            proof = ctx.source.consistency_proof(previous.size, info.size)
            verify_consistency(previous.size, info.size, previous.root, info.root, proof)
            consistent = True
        except InterlockError:
            consistent = False
    try:
        page = max(1, int(request.query_params.get("page", "1")))
    except ValueError:
        page = 1
    newest = list(reversed(ctx.entries))
    shown = newest[(page - 1) * PAGE : page * PAGE]
    return ctx.page(
        "log.html", f"The log — {ctx.agreement.title}", "log",
        checkpoint=checkpoint, previous=before, consistent=consistent, shown=shown, page_no=page,
        log_key=ctx.source.log_key(),
        pages=max(1, -(-len(newest) // PAGE)),
    )


@router.get("/agreements/{agreement_id}/entries/{index}", response_class=HTMLResponse)
@_guard
def entry(request: Request, agreement_id: str, index: int) -> Response:
    ctx = Context(request, agreement_id)
    if ctx.unchanged_poll(None):
        return Response(status_code=204)
    found = next((e for e in ctx.entries if e.index == index), None)
    if found is None:
        raise PageError(404, "No such entry", f"The log holds no entry {index} at this moment.")
    related = [e for e in ctx.entries if index in e.refs]
    statement = {}
    if "envelope" in found.raw:
        try:
            from interlock.statements import open_envelope

            statement = open_envelope(found.raw["envelope"]).statement
        except InterlockError:
            statement = {}
    return ctx.page(
        "entry.html", f"Entry {index} — {ctx.agreement.title}", "log",
        entry=found, related=related, refers=[e for e in ctx.entries if e.index in found.refs],
        statement_json=json.dumps(statement, indent=2, ensure_ascii=False),
        line_json=json.dumps(found.raw, indent=2, ensure_ascii=False),
    )
