"""Log entries as a reader sees them: who said what, when, about which obligation.

Pure: takes entries-file lines (`{"index", "integrated_at", "envelope"}`) and the agreement.
Envelopes are opened (shape and canonical form) but signatures are not checked here — the
server verified them at the door and the engine's `rejected` list says which entries do not
count.  An envelope that cannot be opened is shown as unreadable, never hidden.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from interlock.agreement.model import Agreement
from interlock.canonical import document_hash
from interlock.errors import InterlockError
from interlock.server.dashboard.humanize import moment, number, when
from interlock.server.dashboard.labels import ENTRY_TYPES
from interlock.statements import open_envelope


@dataclass(frozen=True)
class EntryView:
    index: int
    integrated_at: datetime | None
    type: str
    author: str
    key: str
    body: dict[str, Any]
    obligation: str | None = None  # the obligation it is about, following references
    refs: tuple[int, ...] = ()  # entries it refers to (attest, dispute, ruling, suspend)
    observed_at: datetime | None = None
    rejected: str | None = None  # the engine's reason when it does not count
    unreadable: str | None = None
    summary: str = ""
    names: str | None = None  # the agreement version its statement names (a hash)
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def type_label(self) -> str:
        return ENTRY_TYPES.get(self.type, self.type)


def _refs(kind: str, body: dict[str, Any]) -> tuple[int, ...]:
    if kind in ("attest", "dispute") and isinstance(body.get("entry"), int):
        return (body["entry"],)
    if kind == "ruling" and isinstance(body.get("dispute"), int):
        return (body["dispute"],)
    if kind == "suspend":
        return tuple(i for i in body.get("cites") or [] if isinstance(i, int))
    return ()


def _unit(agreements: Sequence[Agreement], oid: str | None, units: Any) -> str:
    ob = next((o for a in agreements if oid and (o := a.obligation(oid)) is not None), None)
    unit = ob.quantity.unit if ob and ob.quantity and ob.quantity.unit else "units"
    if ob and ob.kind == "act":
        return "the action"
    if isinstance(units, int | float) and not isinstance(units, bool):
        return f"{number(units)} {unit}"
    return f"some {unit}"


def _summary(kind: str, body: dict[str, Any], agreements: Sequence[Agreement]) -> str:
    oid = body.get("obligation") if isinstance(body.get("obligation"), str) else None
    observed = f", observed {when(moment(body['observed_at']))}" if isinstance(body.get("observed_at"), str) else ""
    place = f" at {body['place']}" if isinstance(body.get("place"), str) else ""
    match kind:
        case "adopt":
            return "adopts the agreement"
        case "declare":
            return f"declares {_unit(agreements, oid, body.get('units'))} delivered for {oid}{observed}{place}"
        case "evidence":
            what = _unit(agreements, oid, body.get("units"))
            return f"reports {what} {'done ' if what == 'the action' else ''}for {oid}{observed}{place}"
        case "attest":
            verb = "confirms" if body.get("verdict") == "confirm" else "rejects"
            extra = f"; attribution {body['attribution']}" if isinstance(body.get("attribution"), str) else ""
            note = f" — {body['note']}" if isinstance(body.get("note"), str) else ""
            return f"{verb} entry {body.get('entry')}{extra}{note}"
        case "incident":
            about = f"alleges a violation of {oid}" if oid else "reports an unattributed incident"
            return f"{about}{observed}{place}: {body.get('description', '')}"
        case "impediment":
            about = f" verifying {oid}" if oid else ""
            return f"reports being kept from{about or ' verifying'}{observed}{place}: {body.get('description', '')}"
        case "suspend":
            cited = [str(i) for i in body.get("cites") or []]
            cites = ("entry " if len(cited) == 1 else "entries ") + ", ".join(cited)
            return f"suspends its own {oid}, citing {cites}: {body.get('reason', '')}"
        case "dispute":
            return f"disputes entry {body.get('entry')}: {body.get('reason', '')}"
        case "ruling":
            return f"rules on dispute {body.get('dispute')}: {body.get('decision', '')}"
        case "extend":
            due = when(moment(body["due"])) if isinstance(body.get("due"), str) else "?"
            return f"extends the deadline of {oid} to {due}"
        case "waive":
            return f"waives {oid}"
        case "amend":
            document = body.get("document")
            named = f", {document_hash(document)}" if isinstance(document, dict) else ""
            return f"signs an amended agreement{named}"
        case "note":
            return str(body.get("text", ""))
    return kind


def read_entries(
    lines: list[dict[str, Any]], agreement: Agreement, rejected: dict[int, str] | None = None
) -> list[EntryView]:
    """Entries-file lines → `EntryView`s in log order, with obligations resolved through refs."""
    agreements = (agreement,)
    rejected = rejected or {}
    views: list[EntryView] = []
    by_index: dict[int, EntryView] = {}
    for line in lines:
        index = int(line.get("index", len(views)))
        integrated = moment(line.get("integrated_at")) if isinstance(line.get("integrated_at"), str) else None
        try:
            if "envelope" in line:
                opened = open_envelope(line["envelope"])
                statement, keyid = opened.statement, opened.keyid
            else:
                statement, keyid = dict(line.get("statement") or {}), str((line.get("statement") or {}).get("key", ""))
        except InterlockError as exc:
            view = EntryView(index, integrated, "unreadable", "?", "?", {}, unreadable=exc.message,
                             rejected=rejected.get(index), summary="unreadable envelope", raw=line)
            views.append(view)
            by_index[index] = view
            continue
        raw_body = statement.get("body")
        body: dict[str, Any] = raw_body if isinstance(raw_body, dict) else {}
        kind = str(statement.get("type", "?"))
        refs = _refs(kind, body)
        oid = body.get("obligation") if isinstance(body.get("obligation"), str) else None
        for ref in refs:
            if oid is None and ref in by_index:
                oid = by_index[ref].obligation
        view = EntryView(
            index=index,
            integrated_at=integrated,
            type=kind,
            author=str(statement.get("author", "?")),
            key=keyid,
            body=body,
            obligation=oid,
            refs=refs,
            observed_at=moment(body["observed_at"]) if isinstance(body.get("observed_at"), str) else None,
            rejected=rejected.get(index),
            summary=_summary(kind, body, agreements),
            names=statement.get("agreement") if isinstance(statement.get("agreement"), str) else None,
            raw=line,
        )
        views.append(view)
        by_index[index] = view
    return views


def statement_type(line: dict[str, Any]) -> str | None:
    """The statement type an entries-file line carries (None when its envelope cannot be opened)."""
    try:
        statement = open_envelope(line["envelope"]).statement if "envelope" in line else line.get("statement")
    except InterlockError:
        return None
    kind = statement.get("type") if isinstance(statement, dict) else None
    return kind if isinstance(kind, str) else None


def resummarise(views: list[EntryView], agreements: Sequence[Agreement]) -> list[EntryView]:
    """The same entries with their summaries worded from `agreements` (the version in force
    first, then earlier ones): a unit an amendment renamed reads as the version in force says."""
    return [v if v.unreadable is not None else replace(v, summary=_summary(v.type, v.body, agreements))
            for v in views]


def filter_entries(
    views: list[EntryView], *, party: str | None = None, kind: str | None = None, obligation: str | None = None
) -> list[EntryView]:
    """Entries by `party` (author), `kind` (statement type) and `obligation` (resolved); None = any."""
    return [
        v for v in views
        if (not party or v.author == party)
        and (not kind or v.type == kind)
        and (not obligation or v.obligation == obligation)
    ]


def adopters(views: list[EntryView]) -> list[str]:
    """Authors of counted `adopt` entries, first adoption order, each once."""
    return list(dict.fromkeys(v.author for v in views if v.type == "adopt" and not v.rejected))
