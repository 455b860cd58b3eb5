"""The API's obligation endpoint answers under the agreement version in force at `as_of`.

The log is test_dashboard_amendment's: the amendment (entries 3-5, in force from 13:00 on 3
March) adds `open-crossing`, verified on 4 March at 07:30, before its deadline (adopted +
48 h): fulfilled by now.  Before the amendment the obligation does not exist.
"""

from __future__ import annotations

from fastapi.testclient import TestClient

from serverkit import AGREEMENT_ID
from test_dashboard_amendment import BEFORE, NEW, client  # noqa: F401  (the module's fixture)

URL = f"/v1/agreements/{AGREEMENT_ID}/obligations"


def test_an_obligation_the_amendment_added_is_defined_explained_and_judged(client: TestClient) -> None:  # noqa: F811
    response = client.get(f"{URL}/open-crossing")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["definition"]["id"] == "open-crossing" and body["definition"]["kind"] == "act"
    assert body["definition"]["by"] == "north"
    assert body["status"]["state"] == "fulfilled"
    assert body["reasons"], "the engine's explanation under the amended terms"
    assert any("open-crossing" in line or "verified" in line for line in body["reasons"])
    status = client.get(f"/v1/agreements/{AGREEMENT_ID}/status").json()
    assert status["agreement"] == NEW


def test_before_the_amendment_the_obligation_is_unknown(client: TestClient) -> None:  # noqa: F811
    response = client.get(f"{URL}/open-crossing", params={"as_of": BEFORE})
    assert response.status_code == 404
    assert response.json()["code"] == "unknown-obligation"
    assert "as of 2026-03-03T12:45:00Z" in response.json()["message"]
    kept = client.get(f"{URL}/withdraw-line-a", params={"as_of": BEFORE})
    assert kept.status_code == 200 and kept.json()["definition"]["id"] == "withdraw-line-a"
