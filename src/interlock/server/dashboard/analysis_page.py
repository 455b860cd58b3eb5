"""The Analysis page: the sequencing analysis of a registered agreement or of an uploaded draft.

- `GET /agreements/{id}/analysis[?schedule=optimistic|deadline&assume_monitor=1]` — the
  registered agreement, equal weights (a server holds no one's private valuations),
  simulated from its adoption as the log records it (`as_of` moves that moment too);
- `GET /agreements/{id}/analysis.svg[?…]` — its exposure chart, an image, so that the page
  itself keeps the dashboard's strict CSP;
- `GET /analysis` — a form to upload a draft (and optionally a VALUES file);
- `POST /analysis` — the draft analysed in memory, never registered or stored; its chart is
  inlined as a `data:` image (the dashboard's CSP allows `img-src data:`).

The imperative shell: it reads the request, validates the draft with the checker (a bad
draft gets a 422 page listing the checker's findings), and runs the analysis in a child
process bounded in time (`analysis_job`).  The figures come from `interlock.analysis.to_json`
— what `interlock analyze --format json` prints — through the pure `analysis_view`.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from interlock.agreement.check import check_bytes
from interlock.agreement.yamlsource import SourceProblem, load_yaml_bytes
from interlock.analysis.values import EQUAL, Valuation, parse_values
from interlock.errors import AgreementError, BadParameterError, DraftTooLargeError, InterlockError, ValuesError
from interlock.server.dashboard.analysis_job import TIMEOUT, Outcome, cached_analysis, run_analysis
from interlock.server.dashboard.analysis_view import Options, build_analysis_view, read_options
from interlock.server.dashboard.humanize import iso
from interlock.server.dashboard.routes import Context, _guard, _headers, asset_url, env

router = APIRouter(include_in_schema=False)

MAX_DRAFT = 512 * 1024
MAX_VALUES = 64 * 1024
MAX_BODY = MAX_DRAFT + MAX_VALUES + 16 * 1024  # room for the form's own fields and boundaries
SVG_HEADERS = {
    # the chart carries matplotlib's own style attributes and never a script
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'",
    "X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer", "Cache-Control": "max-age=300",
}


def _timeout(request: Request) -> float:
    return float(getattr(request.app.state, "analysis_seconds", TIMEOUT))


def command(options: Options, plan: str = "PLAN", values: bool = False, start: datetime | None = None) -> str:
    """The `interlock analyze` command line that prints the same figures."""
    parts = ["interlock analyze", plan]
    if values:
        parts.append("--values VALUES.yaml")
    if options.schedule != "optimistic":
        parts.append(f"--schedule {options.schedule}")
    if options.assume_monitor:
        parts.append("--assume-monitor")
    if start is not None:
        parts.append(f"--start {iso(start)}")
    return " ".join([*parts, "--format json"])


def _registered(ctx: Context, options: Options) -> tuple[Outcome, datetime | None]:
    """The analysis of a registered agreement, simulated from its adoption as the log records
    it at the page's moment (the plan's own default before it is adopted)."""
    start = ctx.facts.adopted_at
    outcome = cached_analysis(ctx.agreement, options.schedule, options.assume_monitor, start=start,
                              timeout=_timeout(ctx.request))
    return outcome, start


@router.get("/agreements/{agreement_id}/analysis", response_class=HTMLResponse)
@_guard
def analysis(request: Request, agreement_id: str) -> Response:
    ctx = Context(request, agreement_id)
    options = read_options(request.query_params)
    outcome, start = _registered(ctx, options)
    note = ("when the agreement was adopted, as its log records it" if start else
            "not adopted yet: the plan's earliest fixed start, else 1 January 2000")
    return ctx.page(
        "analysis.html", f"Analysis — {ctx.agreement.title}", "analysis",
        view=build_analysis_view(outcome.report), options=options, live=False, link_obligations=True,
        chart_src=ctx.url(f"/agreements/{agreement_id}/analysis.svg", **options.query()), start_note=note,
        command=command(options, f"{agreement_id}.yaml", start=start),
    )


@router.get("/agreements/{agreement_id}/analysis.svg")
@_guard
def analysis_chart(request: Request, agreement_id: str) -> Response:
    outcome, _ = _registered(Context(request, agreement_id), read_options(request.query_params))
    return Response(outcome.svg, media_type="image/svg+xml", headers=SVG_HEADERS)


@dataclass(frozen=True)
class Upload:
    draft: bytes
    filename: str
    values: bytes | None
    options: Options


def _page(request: Request, status: int = 200, **values: Any) -> HTMLResponse:
    context = {
        "title": "Analyse a draft", "asset": asset_url(request), "root": request.scope.get("root_path", ""),
        "max_draft_kib": MAX_DRAFT // 1024, "max_values_kib": MAX_VALUES // 1024, "options": Options(),
        "error": None, "findings": [], "view": None, "warnings": [], "link_obligations": False, **values,
    }
    return HTMLResponse(env.get_template("analysis_upload.html").render(context), status_code=status,
                        headers=_headers())


@router.get("/analysis", response_class=HTMLResponse)
@_guard
def upload_form(request: Request) -> Response:
    return _page(request)


@router.post("/analysis", response_class=HTMLResponse)
async def upload(request: Request) -> Response:
    """Analyse an uploaded draft; every refusal is a 4xx page with the upload form again."""
    options = Options()
    try:
        form = await _read_form(request)
        options = form.options
        return await run_in_threadpool(_analyse_upload, request, form)
    except AgreementError as err:  # the checker's findings, each with its code and place
        return _page(request, 422, error=err.to_dict(), findings=err.findings, options=options)
    except InterlockError as err:  # a VALUES file that cannot be used is refused like a draft: 422
        status = 422 if isinstance(err, ValuesError) else err.http_status
        return _page(request, status, error=err.to_dict(), options=options)


async def _read_form(request: Request) -> Upload:
    """The multipart form, read with a cap on its size.  Raises `DraftTooLargeError`,
    `BadParameterError`."""
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise BadParameterError("send the draft as a file in a multipart/form-data form (the upload form does)")
    try:
        declared = int(request.headers.get("content-length", "0"))
    except ValueError:
        raise BadParameterError("the Content-Length header is not a number") from None
    too_large = DraftTooLargeError(f"the upload is larger than {MAX_BODY // 1024} KiB; a draft may be at most "
                                   f"{MAX_DRAFT // 1024} KiB and a VALUES file {MAX_VALUES // 1024} KiB")
    if declared > MAX_BODY:
        raise too_large
    body = bytearray()
    async for chunk in request.stream():
        body.extend(chunk)
        if len(body) > MAX_BODY:
            raise too_large

    async def replay() -> AsyncGenerator[bytes, None]:
        yield bytes(body)

    try:
        form = await MultiPartParser(request.headers, replay(), max_files=2, max_fields=8,
                                     max_part_size=MAX_BODY).parse()
    except MultiPartException as exc:
        raise BadParameterError(f"the form could not be read: {exc.message}") from None
    draft, values = form.get("draft"), form.get("values")
    if not isinstance(draft, UploadFile) or not draft.filename:
        raise BadParameterError("choose a draft agreement file to analyse")
    draft_bytes = await draft.read()
    values_bytes = await values.read() if isinstance(values, UploadFile) and values.filename else None
    await form.close()
    if len(draft_bytes) > MAX_DRAFT:
        raise DraftTooLargeError(f"the draft is {len(draft_bytes):,} bytes; at most {MAX_DRAFT:,} are accepted here "
                                 "(`interlock analyze` takes larger files)")
    if values_bytes is not None and len(values_bytes) > MAX_VALUES:
        raise DraftTooLargeError(f"the VALUES file is {len(values_bytes):,} bytes; at most {MAX_VALUES:,} are accepted")
    fields = {k: v for k, v in form.multi_items() if isinstance(v, str)}
    return Upload(draft_bytes, draft.filename, values_bytes, read_options(fields))


def _valuation(raw: bytes | None, agreement: Any) -> Valuation:
    if raw is None:
        return EQUAL
    try:
        data = load_yaml_bytes(raw).data
    except SourceProblem as problem:
        where = f" (line {problem.line})" if problem.line else ""
        raise ValuesError(f"the VALUES file{where}: {problem.message}") from None
    return parse_values(data, agreement)


def _analyse_upload(request: Request, form: Upload) -> Response:
    report = check_bytes(form.draft)
    if report.errors or report.agreement is None:
        count = len(report.errors)
        raise AgreementError(f"the checker found {count} error{'' if count == 1 else 's'} in {form.filename}; "
                           "nothing was analysed", findings=list(report.errors))
    agreement = report.agreement
    valuation = _valuation(form.values, agreement)
    outcome = run_analysis(agreement, valuation, form.options.schedule, form.options.assume_monitor,
                           timeout=_timeout(request))
    chart = "data:image/svg+xml;base64," + base64.b64encode(outcome.svg.encode()).decode()
    return _page(
        request, view=build_analysis_view(outcome.report), chart_src=chart, options=form.options,
        filename=form.filename, warnings=list(report.warnings),
        command=command(form.options, form.filename, form.values is not None),
        title=f"Analysis of a draft — {agreement.title}",
        start_note="the VALUES file's start, else the plan's earliest fixed start, else 1 January 2000",
    )
