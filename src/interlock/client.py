"""HTTP client for an interlock server (httpx), used by the CLI, mirrors and tests.

Every method returns plain data (dicts, lists, bytes, str).  A refusal by the server raises
`ServerRefusedError` carrying the server's own error code and message; a server that cannot
be reached, times out or answers with something that is not the API raises
`ServerUnavailableError`.  Nothing here verifies what the server says: that is
`interlock.mirror` and `interlock verify --server`.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import quote

import httpx

from interlock.errors import ServerRefusedError, ServerUnavailableError
from interlock.server.operator import authorization_header
from interlock.statements import Entry, parse_entry


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def unb64(text: Any, what: str = "value") -> bytes:
    if not isinstance(text, str):
        raise ServerUnavailableError(f"the server sent a {what} that is not base64 text")
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise ServerUnavailableError(f"the server sent a {what} that is not base64") from None


class Client:
    """One server at `base_url` (e.g. `http://127.0.0.1:8000`)."""

    def __init__(self, base_url: str, *, timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- plumbing -----------------------------------------------------------------------

    def _request(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TimeoutException:
            raise ServerUnavailableError(f"{self.base_url} did not answer {method} {path} in time") from None
        except httpx.HTTPError as exc:
            raise ServerUnavailableError(f"cannot reach {self.base_url}: {exc}") from None
        if response.status_code >= 400:
            raise _refusal(response)
        return response

    def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        try:
            return response.json()
        except ValueError:
            raise ServerUnavailableError(f"{method} {path}: the server's answer is not JSON") from None

    @staticmethod
    def _log(agreement_id: str) -> str:
        return f"/v1/agreements/{quote(agreement_id, safe='')}"

    # --- writing ------------------------------------------------------------------------

    def register(self, agreement_source: bytes, operator_seed: bytes, *, now: float | None = None) -> dict[str, Any]:
        """Register an agreement file (YAML or JSON bytes) with an operator-signed request."""
        path = "/v1/agreements"
        ts = int(time.time() if now is None else now)
        header = authorization_header(operator_seed, "POST", path, ts, agreement_source)
        return dict(
            self._json(
                "POST", path, content=agreement_source,
                headers={"Authorization": header, "Content-Type": "application/yaml"},
            )
        )

    def submit(self, agreement_id: str, envelope: dict[str, Any]) -> dict[str, Any]:
        """Append one DSSE envelope; returns the ack `{index, integrated_at, checkpoint, inclusion_proof}`."""
        body = json.dumps(envelope, separators=(",", ":")).encode()
        return dict(
            self._json(
                "POST", f"{self._log(agreement_id)}/entries", content=body,
                headers={"Content-Type": "application/json"},
            )
        )

    # --- reading ------------------------------------------------------------------------

    def agreements(self) -> list[dict[str, Any]]:
        return list(self._json("GET", "/v1/agreements")["agreements"])

    def agreement(self, agreement_id: str) -> dict[str, Any]:
        return dict(self._json("GET", self._log(agreement_id)))

    def status(self, agreement_id: str, as_of: str | None = None, size: int | None = None) -> dict[str, Any]:
        """The engine's status as of `as_of` (default now), of the first `size` entries (default all)."""
        params: dict[str, Any] = {"as_of": as_of} if as_of else {}
        if size is not None:
            params["size"] = size
        return dict(self._json("GET", f"{self._log(agreement_id)}/status", params=params))

    def obligation(self, agreement_id: str, obligation_id: str, as_of: str | None = None) -> dict[str, Any]:
        params = {"as_of": as_of} if as_of else {}
        path = f"{self._log(agreement_id)}/obligations/{quote(obligation_id, safe='')}"
        return dict(self._json("GET", path, params=params))

    def entries_page(self, agreement_id: str, start: int, limit: int) -> list[Entry]:
        """One page of entries (possibly shorter than `limit`, empty past the end)."""
        response = self._request(
            "GET", f"{self._log(agreement_id)}/entries", params={"start": start, "limit": limit}
        )
        entries: list[Entry] = []
        for line in response.text.splitlines():
            if line.strip():
                try:
                    entries.append(parse_entry(json.loads(line)))
                except ValueError:
                    raise ServerUnavailableError("the server sent an entries line that is not JSON") from None
        return entries

    def iter_entries(
        self, agreement_id: str, start: int = 0, end: int | None = None, page: int = 500
    ) -> Iterator[Entry]:
        """Entries `start` ≤ i < `end` (or to the current end), page by page."""
        index = start
        while end is None or index < end:
            limit = page if end is None else min(page, end - index)
            batch = self.entries_page(agreement_id, index, limit)
            if not batch:
                return
            yield from batch
            index += len(batch)

    def entry(self, agreement_id: str, index: int) -> Entry:
        return parse_entry(self._json("GET", f"{self._log(agreement_id)}/entries/{index}"))

    def checkpoint(self, agreement_id: str) -> str:
        """The latest signed checkpoint as a note, with the cosignatures collected so far."""
        return self._request("GET", f"{self._log(agreement_id)}/checkpoint").text

    def inclusion_proof(self, agreement_id: str, index: int, size: int) -> list[bytes]:
        data = self._json(
            "GET", f"{self._log(agreement_id)}/proofs/inclusion", params={"index": index, "size": size}
        )
        return [unb64(h, "proof hash") for h in data.get("proof", [])]

    def consistency_proof(self, agreement_id: str, old: int, new: int) -> list[bytes]:
        data = self._json(
            "GET", f"{self._log(agreement_id)}/proofs/consistency", params={"old": old, "new": new}
        )
        return [unb64(h, "proof hash") for h in data.get("proof", [])]

    def tile(self, agreement_id: str, path: str) -> bytes:
        """A C2SP tlog-tiles resource below the log's prefix, e.g. `tile/0/000` or `tile/entries/000.p/5`."""
        return self._request("GET", f"{self._log(agreement_id)}/{path}").content


def _refusal(response: httpx.Response) -> Exception:
    code, message = "http-" + str(response.status_code), response.text[:300].strip()
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        code = body["code"]
        message = str(body.get("message", message))
    if response.status_code >= 500:
        return ServerUnavailableError(f"the server failed ({response.status_code} {code}): {message}")
    return ServerRefusedError(message or response.reason_phrase, code=code, http_status=response.status_code)
