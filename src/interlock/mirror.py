"""`interlock mirror`: copy a server's logs, verifying everything, and raise the alarm on a lie.

For each agreement the mirror keeps a full copy in its own database, in the store's schema
(so `interlock mirror --serve` serves the same read API from it and `interlock verify --db`
audits it).  Each round, per log:

1. fetch the newest checkpoint and open it with the log's key (`--log-key`, or the key the
   server gave on first contact, pinned from then on) and the witnesses' keys; with
   `--min-cosignatures K` a checkpoint with fewer verified cosignatures is not taken yet;
2. compare it with the newest checkpoint the mirror holds (size n, root R):
   same size, other root — or a smaller size whose root is not our tree's root at that
   size — or a larger size whose consistency proof from (n, R) fails: **split view**;
3. fetch the new entries, check each statement's signature and authorisation with the
   engine, hash them into the tree and require the checkpoint's root; check the server's
   inclusion proofs for the first and last new entry;
4. store entries, subtree hashes, the checkpoint and its cosignatures in one transaction;
5. recompute the status and require the server's own status of the same prefix (`?size=`)
   at the same moment to be identical.

A split view writes a proof file (JSON: both signed checkpoints, sizes, roots, the proof the
server gave) to the alarm directory, logs `ALARM`, and raises `MirrorContradictionError`;
anything else that does not verify raises `MirrorVerificationError`.  Both stop the mirror.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError

from interlock.agreement import load_agreement
from interlock.canonical import canonical_json
from interlock.checkpoint import SignedCheckpoint, open_checkpoint
from interlock.client import Client
from interlock.engine import Evaluator
from interlock.errors import (
    InterlockError,
    MirrorContradictionError,
    MirrorVerificationError,
    ProofError,
)
from interlock.note import parse_verifier_key
from interlock.statements import Entry
from interlock.store import Store
from interlock.store import tree as stored_tree
from interlock.store.database import WRITE
from interlock.store.schema import checkpoints, cosignatures, entries, logs, nodes
from interlock.timeutil import format_timestamp
from interlock.tlog import CompactRange, leaf_hash, root_from, verify_consistency, verify_inclusion

log = logging.getLogger("interlock.mirror")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@dataclass
class _Local:
    """What the mirror holds of one log (always equal to its database after a round)."""

    size: int
    tree: CompactRange
    note: str | None
    evaluator: Evaluator
    last_time: datetime | None = None
    rejected: list[int] = field(default_factory=list)


class LogFollower:
    """Mirrors one agreement's log from `client` into `store`."""

    def __init__(
        self,
        client: Client,
        store: Store,
        log_id: str,
        *,
        log_keys: Iterable[str] = (),
        witness_keys: Iterable[str] = (),
        min_cosignatures: int = 0,
        alarm_dir: Path = Path("."),
        clock: Any = None,
    ) -> None:
        self.client = client
        self.store = store
        self.id = log_id
        self.trusted_keys = set(log_keys)
        self.witness_keys = list(witness_keys)
        self.min_cosignatures = min_cosignatures
        self.alarm_dir = alarm_dir
        self.clock = clock or (lambda: datetime.now(UTC))
        self.origin = ""
        self.log_key = ""
        self._local: _Local | None = None

    # --- first contact ----------------------------------------------------------------

    def setup(self) -> None:
        """Pin (or check) the log's origin, key and agreement; load what the mirror holds."""
        served = self.client.agreement(self.id)
        document = str(served.get("document", "")).encode("utf-8")
        agreement = load_agreement(document)
        if agreement.hash != served.get("agreement_hash"):
            raise MirrorVerificationError(
                f"{self.id}: the served document hashes to {agreement.hash}, not {served.get('agreement_hash')}"
            )
        origin, key = str(served.get("origin")), str(served.get("log_key"))
        if self.trusted_keys and key not in self.trusted_keys:
            raise MirrorVerificationError(
                f"{self.id}: the server names log key {key}, which is not among the trusted --log-key keys"
            )
        parse_verifier_key(key)
        with self.store.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            row = conn.execute(select(logs).where(logs.c.id == self.id)).first()
            if row is None:
                conn.execute(insert(logs), {
                    "id": self.id, "origin": origin, "agreement": document, "agreement_hash": agreement.hash,
                    "public_key": key, "created_at": str(served.get("created_at", format_timestamp(self.clock()))),
                })
            elif (row.origin, row.public_key, row.agreement_hash) != (origin, key, agreement.hash):
                raise MirrorVerificationError(
                    f"{self.id}: the server now names origin {origin}, key {key} and agreement {agreement.hash}; "
                    f"the mirror pinned {row.origin}, {row.public_key} and {row.agreement_hash}"
                )
        self.origin, self.log_key = origin, key
        self._local = self._load(document)

    def _load(self, document: bytes) -> _Local:
        evaluator = Evaluator(load_agreement(document))
        with self.store.engine.connect() as conn:
            head = conn.execute(
                select(checkpoints.c.size, checkpoints.c.note).where(checkpoints.c.log_id == self.id)
                .order_by(checkpoints.c.size.desc()).limit(1)
            ).first()
            size, note = (int(head.size), head.note) if head is not None else (0, None)
            border = stored_tree.compute(conn, self.id, lambda r: CompactRange.from_reader(r, size)) if size else None
        local = _Local(size, border or CompactRange(), note, evaluator)
        if size:
            read_only = self.store.log(self.id)
            for start in range(0, size, 1000):
                for entry in read_only.entries(start, min(1000, size - start)):
                    if evaluator.append(entry, signature_ok=True) is not None:
                        local.rejected.append(entry.index)
                    local.last_time = entry.integrated_at
        return local

    # --- one round --------------------------------------------------------------------

    def step(self) -> int:
        """Catch up with the server once; returns how many entries were added."""
        if self._local is None:
            self.setup()
        local = self._local
        assert local is not None
        note = self.client.checkpoint(self.id)
        try:
            signed = open_checkpoint(note, self.log_key, self.witness_keys, origin=self.origin)
        except InterlockError as err:
            raise MirrorVerificationError(f"{self.id}: the served checkpoint does not verify: {err.message}") from None
        if len(signed.cosignatures) < self.min_cosignatures:
            log.info("%s: checkpoint %d has %d of %d cosignatures; waiting", self.id,
                     signed.checkpoint.size, len(signed.cosignatures), self.min_cosignatures)
            return 0
        size, root = signed.checkpoint.size, signed.checkpoint.root_hash
        if size <= local.size:
            ours = self._root_at(size)
            if ours != root:
                self._alarm(signed, note, f"checkpoint {size} has root {_b64(root)}, but the log the mirror holds "
                            f"(signed at size {local.size}) has root {_b64(ours)} at size {size}", [])
            if size == local.size:
                self._store_cosignatures(size, signed)
            return 0
        old_root = local.tree.root()
        proof: list[bytes] = []
        if local.size:
            proof = self.client.consistency_proof(self.id, local.size, size)
            try:
                verify_consistency(local.size, size, old_root, root, proof)
            except ProofError as err:
                self._alarm(signed, note, f"checkpoint {size} is not consistent with checkpoint {local.size} the "
                            f"mirror holds: {err.message}", proof)
        added = self._append(signed, local)
        self._check_status(local)
        return added

    def _root_at(self, size: int) -> bytes:
        assert self._local is not None
        if size == self._local.size:
            return self._local.tree.root()
        with self.store.engine.connect() as conn:
            return stored_tree.compute(conn, self.id, lambda r: root_from(r, size))

    def _append(self, signed: SignedCheckpoint, local: _Local) -> int:
        size, root = signed.checkpoint.size, signed.checkpoint.root_hash
        border = local.tree.copy()
        rows: list[dict[str, Any]] = []
        new_nodes: dict[tuple[int, int], bytes] = {}
        fetched: list[Entry] = []
        for entry in self.client.iter_entries(self.id, local.size, size):
            expected = local.size + len(fetched)
            if entry.index != expected:
                raise MirrorVerificationError(
                    f"{self.id}: the server sent entry {entry.index} where {expected} belongs"
                )
            leaf = leaf_hash(entry.leaf_bytes())
            for level, index, value in border.append(leaf):
                new_nodes[(level, index)] = value
            rejection = local.evaluator.append(entry)
            if rejection is not None:
                local.rejected.append(entry.index)
                log.warning("%s: entry %d breaks the agreement's rules (%s: %s) yet the server logged it",
                            self.id, entry.index, rejection.code, rejection.reason)
            statement = json.loads(base64.b64decode(entry.envelope["payload"])) if entry.envelope else {}
            rows.append({
                "log_id": self.id, "idx": entry.index, "integrated_at": format_timestamp(entry.integrated_at),
                "envelope": canonical_json(entry.envelope).decode("utf-8"), "leaf_hash": leaf,
                "author": str(statement.get("author", "")), "key_id": str(statement.get("key", "")),
                "nonce": str(statement.get("nonce", f"#{entry.index}")), "type": str(statement.get("type", "")),
            })
            fetched.append(entry)
        if len(fetched) != size - local.size:
            raise MirrorVerificationError(f"{self.id}: the server sent {len(fetched)} of {size - local.size} entries")
        if border.root() != root:
            raise MirrorVerificationError(
                f"{self.id}: entries {local.size}..{size - 1} do not hash to the root of checkpoint {size}"
            )
        for index in {fetched[0].index, fetched[-1].index}:
            try:
                leaf = rows[index - local.size]["leaf_hash"]
                verify_inclusion(leaf, index, size, self.client.inclusion_proof(self.id, index, size), root)
            except ProofError as err:
                raise MirrorVerificationError(
                    f"{self.id}: the inclusion proof of entry {index}: {err.message}"
                ) from None
        log_note = signed.note.text + "\n" + "".join(
            s.line for s in signed.note.signatures if s.name == parse_verifier_key(self.log_key).name
        )
        try:
            self._insert(rows, new_nodes, (size, root, log_note), fetched[-1].integrated_at)
        except IntegrityError:
            raise MirrorVerificationError(
                f"{self.id}: entries {local.size}..{size - 1} repeat an author's nonce; the server broke the rules"
            ) from None
        local.size, local.tree, local.note = size, border, log_note
        local.last_time = fetched[-1].integrated_at
        self._store_cosignatures(size, signed)
        return len(fetched)

    def _insert(
        self, rows: list[dict[str, Any]], new_nodes: dict[tuple[int, int], bytes],
        head: tuple[int, bytes, str], when: datetime,
    ) -> None:
        size, root, note = head
        with self.store.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            conn.execute(insert(entries), rows)
            conn.execute(insert(nodes), [{"log_id": self.id, "level": lv, "idx": ix, "hash": h}
                                         for (lv, ix), h in new_nodes.items()])
            conn.execute(insert(checkpoints), {"log_id": self.id, "size": size, "root": root, "note": note,
                                               "created_at": format_timestamp(when)})

    def _store_cosignatures(self, size: int, signed: SignedCheckpoint) -> None:
        if not signed.cosignatures:
            return
        lines = {s.name: s.line for s in signed.note.signatures if any(c.name == s.name for c in signed.cosignatures)}
        when = format_timestamp(self.clock())
        with self.store.engine.connect().execution_options(**{WRITE: True}) as conn, conn.begin():
            for name, line in lines.items():
                conn.execute(delete(cosignatures).where(cosignatures.c.log_id == self.id, cosignatures.c.size == size,
                                                        cosignatures.c.key_name == name))
                conn.execute(insert(cosignatures), {"log_id": self.id, "size": size, "key_name": name, "line": line,
                                                    "received_at": when})

    def _check_status(self, local: _Local) -> None:
        now = self.clock().replace(microsecond=0)
        as_of = max(now, local.last_time) if local.last_time is not None else now
        ours = local.evaluator.status(as_of).to_json()
        theirs = self.client.status(self.id, format_timestamp(as_of), size=local.size)
        if ours != theirs:
            differing = sorted(k for k in set(ours) | set(theirs) if ours.get(k) != theirs.get(k))
            raise MirrorVerificationError(
                f"{self.id}: the server's status as of {format_timestamp(as_of)} differs from the one recomputed "
                f"from its log (in {', '.join(differing)})"
            )

    # --- the alarm ----------------------------------------------------------------------

    def _held_note(self) -> str | None:
        """The newest checkpoint the mirror holds, with the cosignatures it verified for it."""
        assert self._local is not None
        if self._local.note is None:
            return None
        with self.store.engine.connect() as conn:
            lines = conn.execute(
                select(cosignatures.c.line).where(cosignatures.c.log_id == self.id,
                                                  cosignatures.c.size == self._local.size)
                .order_by(cosignatures.c.key_name)
            ).scalars().all()
        return self._local.note + "".join(lines)

    def _alarm(self, signed: SignedCheckpoint, note: str, reason: str, proof: list[bytes]) -> None:
        assert self._local is not None
        self.alarm_dir.mkdir(parents=True, exist_ok=True)
        stamp = self.clock().strftime("%Y%m%dT%H%M%SZ")
        path = self.alarm_dir / f"split-view-{re.sub(r'[^A-Za-z0-9._-]', '_', self.id)}-{stamp}.json"
        evidence = {
            "alarm": "split-view",
            "server": self.client.base_url,
            "log": self.id,
            "origin": self.origin,
            "log_key": self.log_key,
            "reason": reason,
            "detected_at": format_timestamp(self.clock()),
            "held": {"size": self._local.size, "root": _b64(self._local.tree.root()), "checkpoint": self._held_note()},
            "served": {"size": signed.checkpoint.size, "root": _b64(signed.checkpoint.root_hash), "checkpoint": note},
            "consistency_proof": [_b64(h) for h in proof],
        }
        path.write_text(json.dumps(evidence, indent=2) + "\n")
        log.critical("ALARM split view on %s (%s): %s; evidence in %s", self.id, self.client.base_url, reason, path)
        raise MirrorContradictionError(f"split view on {self.id}: {reason} (evidence: {path})", proof_file=str(path))


class Mirror:
    """Follows every agreement on a server (or the ones named) into one database."""

    def __init__(self, client: Client, store: Store, *, only: Iterable[str] = (), **options: Any) -> None:
        self.client = client
        self.store = store
        self.only = list(only)
        self.options = options
        self.followers: dict[str, LogFollower] = {}

    def step(self) -> int:
        ids = self.only or [a["id"] for a in self.client.agreements()]
        added = 0
        for log_id in ids:
            follower = self.followers.get(log_id)
            if follower is None:
                follower = self.followers[log_id] = LogFollower(self.client, self.store, log_id, **self.options)
            added += follower.step()
        return added

    def run(self, *, interval: float = 2.0, once: bool = False, should_stop: Any = None) -> None:
        """Follow until stopped; with `once`, until a round adds nothing."""
        while True:
            added = self.step()
            if once and not added:
                return
            if should_stop is not None and should_stop():
                return
            if not added:
                time.sleep(interval)
