"""interlock — staged agreements between parties who do not trust each other.

Quick starting points:
- `interlock.agreement.load_agreement(bytes)` → `Agreement` (with `.hash`)
- `interlock.statements` — statements, DSSE envelopes, entries files
- `interlock.engine.evaluate(agreement, entries, as_of)` → `Status`
- `interlock.tlog`, `interlock.note` — RFC 9162 Merkle proofs, C2SP signed notes

Pure modules (agreement, statements, engine, analysis, tlog, note) never import the
I/O shell (store, server, cli) and never read the clock.
"""

__version__ = "0.1.0"
