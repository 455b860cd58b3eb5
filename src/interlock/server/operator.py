"""Operator-signed requests: how `POST /v1/agreements` knows the operator sent it.

Decision (docs/server.md): no bearer tokens.  The operator holds an Ed25519 key; the server
is configured with its public key (`interlock serve --operator-key BASE64`).  A request carries

    Authorization: Interlock-Operator key=<base64 public key>, ts=<unix seconds>, sig=<base64>

where `sig` is Ed25519 over `operator_message(method, path, ts, body)`.  The signature binds the
method, the path and the SHA-256 of the body, and the time, which must lie within
`WINDOW_SECONDS` of the server's clock.  A replay inside the window can only re-register the
same agreement, which the server refuses as `log-exists`.  No shared secret sits on the
server, and a leaked request cannot be altered.  Pure apart from the caller's clock reading.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey

from interlock.errors import OperatorAuthError

SCHEME = "Interlock-Operator"
WINDOW_SECONDS = 300
_HEADER = re.compile(
    r"^Interlock-Operator\s+key=([A-Za-z0-9+/=]{1,64}),\s*ts=(\d{1,12}),\s*sig=([A-Za-z0-9+/=]{1,100})$"
)


def operator_message(method: str, path: str, ts: int, body: bytes) -> bytes:
    digest = hashlib.sha256(body).hexdigest()
    return f"interlock-operator/v1\n{method.upper()} {path}\n{ts}\n{digest}\n".encode()


def authorization_header(seed: bytes, method: str, path: str, ts: int, body: bytes) -> str:
    """The header value a client sends, signed with the operator's Ed25519 `seed`."""
    key = SigningKey(seed)
    sig = key.sign(operator_message(method, path, ts, body)).signature
    pub = base64.b64encode(bytes(key.verify_key)).decode()
    return f"{SCHEME} key={pub}, ts={ts}, sig={base64.b64encode(sig).decode()}"


def check_authorization(
    header: str | None, method: str, path: str, body: bytes, *, now: float, operator_keys: tuple[str, ...]
) -> str:
    """Return the operator's public key (base64) or raise `OperatorAuthError`."""
    if not operator_keys:
        raise OperatorAuthError("this server accepts no registrations: it was started without --operator-key")
    if not header:
        raise OperatorAuthError(
            f"send an `Authorization: {SCHEME} key=…, ts=…, sig=…` header signed by an operator key"
        )
    match = _HEADER.match(header.strip())
    if not match:
        raise OperatorAuthError(f"the Authorization header is not `{SCHEME} key=…, ts=…, sig=…`")
    key_b64, ts_text, sig_b64 = match.groups()
    if key_b64 not in operator_keys:
        raise OperatorAuthError("the request is signed by a key that is not one of this server's operator keys")
    ts = int(ts_text)
    if abs(now - ts) > WINDOW_SECONDS:
        raise OperatorAuthError(
            f"the request was signed at {ts}, more than {WINDOW_SECONDS}s from the server's clock ({int(now)})"
        )
    try:
        VerifyKey(base64.b64decode(key_b64, validate=True)).verify(
            operator_message(method, path, ts, body), base64.b64decode(sig_b64, validate=True)
        )
    except (BadSignatureError, binascii.Error, ValueError, TypeError):
        raise OperatorAuthError("the operator signature does not verify for this method, path and body") from None
    return key_b64
