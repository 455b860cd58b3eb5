"""Schemathesis against the server's own OpenAPI document: no 5xx, no schema violations.

A real server process (SQLite) with the conformance agreement registered and a few entries,
so that valid ids and indices exist for generated requests to hit as well as miss.  The
number of examples per operation is bounded so the whole file runs in well under a minute.

Every schemathesis check runs except `positive_data_acceptance` ("schema-valid data must be
accepted"): a schema cannot say "signed by a key the agreement registers", "a real calendar
date within five years" or "an index the log already has", so schema-valid requests are
rightly refused with 400/403/404/422.  That they are refused with a documented 4xx and a
well-formed `{code, message}` body is what the other checks assert.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from serverkit import AGREEMENT, AGREEMENT_ID, Proc, adoptions, dumps, register_headers, signed, start_server


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Proc]:
    tmp: Path = tmp_path_factory.mktemp("schemathesis")
    proc = start_server(tmp, f"sqlite:///{tmp / 'log.db'}", "--address-rate", "100000", "--address-burst", "100000")
    with httpx.Client(base_url=proc.url, timeout=30) as http:
        assert http.post("/v1/agreements", content=AGREEMENT, headers=register_headers()).status_code == 201
        for envelope in [*adoptions(), signed("observers"), signed("red-cross")]:
            response = http.post(f"/v1/agreements/{AGREEMENT_ID}/entries", content=dumps(envelope),
                                 headers={"Content-Type": "application/json"})
            assert response.status_code == 201, response.text
    yield proc
    proc.stop()


def test_every_operation_conforms_and_never_fails(server: Proc) -> None:
    """Every operation in /openapi.json, fuzzed: each response documented, well formed, < 500."""
    api = schemathesis.openapi.from_url(f"{server.url}/openapi.json")
    operations = [result.ok() for result in api.get_all_operations()]  # type: ignore[union-attr]
    assert len(operations) >= 11  # the /v1 API and the tile route are all in the document
    seen: Counter[tuple[str, int]] = Counter()
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
                aim = st.booleans() if mode is GenerationMode.POSITIVE else st.just(False)
                cases = st.tuples(operation.as_strategy(generation_mode=mode), aim).map(_aim)

                @given(case=cases)
                @settings(max_examples=10, deadline=None, suppress_health_check=list(HealthCheck),
                          derandomize=True, database=None)
                def fuzz(case: Any) -> None:
                    response = case.call_and_validate(
                        base_url=server.url, session=session, excluded_checks=[positive_data_acceptance]
                    )
                    assert response.status_code < 500, response.text
                    seen[(case.operation.label, response.status_code)] += 1

                try:
                    fuzz()
                except Unsatisfiable:  # an operation without parameters has no invalid input
                    assert mode is GenerationMode.NEGATIVE
    statuses = {status for _, status in seen}
    assert {200, 400, 404}.issubset(statuses), seen  # the fuzzing reached real data, not only 404s


def _aim(pair: tuple[Any, bool]) -> Any:
    """Half the valid cases name the registered agreement, so they reach real logs, not 404."""
    case, aim = pair
    if aim and case.path_parameters and "agreement_id" in case.path_parameters:
        case.path_parameters["agreement_id"] = AGREEMENT_ID
    return case
