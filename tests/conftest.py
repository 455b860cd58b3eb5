"""Shared fixtures: the conformance world (DESIGN.md's worked example) and its keys."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

pytest_plugins = ["pg"]  # the throwaway PostgreSQL cluster and the two-backend `db_url`

DATA = Path(__file__).parent / "data"
ROOT = Path(__file__).parent.parent


def seed_of(participant: str) -> bytes:
    """The conformance world's private key seed: SHA-256 of the participant id."""
    return hashlib.sha256(participant.encode()).digest()


@pytest.fixture()
def northland_bytes() -> bytes:
    return (DATA / "northland" / "agreement.yaml").read_bytes()


@pytest.fixture()
def northland_entries_text() -> str:
    return (DATA / "northland" / "entries.jsonl").read_text()
