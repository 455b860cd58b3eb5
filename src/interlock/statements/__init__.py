"""Signed statements: types and bodies, DSSE envelopes, Ed25519 keys, entries.  Pure."""

from interlock.statements.dsse import PAYLOAD_TYPE, open_envelope, pae, sign_statement, verify_signature
from interlock.statements.entries import Entry, dump_entries, parse_entries, parse_entry
from interlock.statements.model import BODIES, STATEMENT_TYPES, Statement, parse_statement

__all__ = [
    "BODIES", "PAYLOAD_TYPE", "STATEMENT_TYPES", "Entry", "Statement", "dump_entries",
    "open_envelope", "pae", "parse_entries", "parse_entry", "parse_statement",
    "sign_statement", "verify_signature",
]
