"""The C2SP tlog-witness `add-checkpoint` request body, parsed and written.  Pure.

    old <size>\\n
    <base64 hash>\\n            (0 to 63 consistency-proof lines)
    \\n
    <signed checkpoint note>

A malformed body is a 400 (`WitnessBadRequestError`).  Every proof hash must be 32 bytes.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass

from interlock.errors import WitnessBadRequestError

MAX_PROOF_LINES = 63
MAX_BODY = 64 * 1024
_OLD = re.compile(r"^old (0|[1-9][0-9]{0,19})$")


@dataclass(frozen=True)
class AddCheckpoint:
    """One add-checkpoint request: the size the client believes the witness holds, the
    consistency proof from that size to the checkpoint's, and the signed checkpoint note."""

    old_size: int
    proof: tuple[bytes, ...]
    checkpoint: bytes


def parse_add_checkpoint(body: bytes) -> AddCheckpoint:
    if len(body) > MAX_BODY:
        raise WitnessBadRequestError(f"the request body is larger than {MAX_BODY} bytes")
    head, sep, note = body.partition(b"\n\n")
    if not sep or not note:
        raise WitnessBadRequestError("the body needs `old N`, proof lines, an empty line, then the checkpoint")
    try:
        lines = head.decode("ascii").split("\n")
    except UnicodeDecodeError:
        raise WitnessBadRequestError("the request header lines are not ASCII") from None
    match = _OLD.match(lines[0])
    if not match:
        raise WitnessBadRequestError("the first line must be `old <size>` (decimal, no leading zeroes)")
    old_size = int(match.group(1))
    if old_size >= 2**63:
        raise WitnessBadRequestError("the old size does not fit in 63 bits")
    if len(lines) - 1 > MAX_PROOF_LINES:
        raise WitnessBadRequestError(f"at most {MAX_PROOF_LINES} consistency proof lines are allowed")
    proof: list[bytes] = []
    for number, line in enumerate(lines[1:], start=2):
        try:
            digest = base64.b64decode(line, validate=True)
        except (binascii.Error, ValueError):
            raise WitnessBadRequestError(f"line {number} is not a base64 hash") from None
        if len(digest) != 32:
            raise WitnessBadRequestError(f"line {number} is not a 32-byte hash")
        proof.append(digest)
    return AddCheckpoint(old_size, tuple(proof), note)


def format_add_checkpoint(old_size: int, proof: list[bytes] | tuple[bytes, ...], checkpoint: bytes | str) -> bytes:
    """The request body a log (or a test) sends."""
    note = checkpoint.encode("utf-8") if isinstance(checkpoint, str) else checkpoint
    lines = [f"old {old_size}"] + [base64.b64encode(h).decode("ascii") for h in proof]
    return ("\n".join(lines) + "\n\n").encode("ascii") + note
