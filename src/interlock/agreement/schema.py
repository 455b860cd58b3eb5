"""The JSON Schema of agreement files, generated from the pydantic model.

Editors use it for completion and early errors (e.g. yaml-language-server with
`# yaml-language-server: $schema=…/schema/agreement.schema.json`).  It describes the shape
only; references, cycles and advice are `interlock check`'s.  Where the model accepts a
shorthand before validation (`to: north` for `to: [north]`, a numeric `clause`), the schema
is widened to say so.  `schema/agreement.schema.json` is `schema_text()`, kept in step by a
test.  Pure.
"""

from __future__ import annotations

import json
from typing import Any

from interlock.agreement.model import Agreement

SCHEMA_DIALECT = "https://json-schema.org/draft/2020-12/schema"
SCHEMA_ID = "urn:interlock:schema:agreement:1"


def agreement_schema() -> dict[str, Any]:
    """The schema as a JSON object (a new dict on each call)."""
    generated = Agreement.model_json_schema(by_alias=True)
    obligation = generated["$defs"]["Obligation"]["properties"]
    listed = obligation["to"]
    obligation["to"] = {
        "anyOf": [dict(listed["items"]), {k: v for k, v in listed.items() if k != "title"}],
        "title": "To",
        "description": "the creditor(s): one party id or a list of them",
    }
    obligation["clause"] = {
        "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}],
        "default": None,
        "title": "Clause",
        "description": "the clause of the signed text this obligation encodes",
    }
    return {
        "$schema": SCHEMA_DIALECT,
        "$id": SCHEMA_ID,
        "title": "interlock agreement (interlock: 1)",
        **{k: v for k, v in generated.items() if k != "title"},
    }


def schema_text() -> str:
    """The schema as the text `interlock schema` prints: indented JSON and a final newline."""
    return json.dumps(agreement_schema(), indent=2, ensure_ascii=False) + "\n"
