"""`interlock serve` refuses what it cannot run safely, before it listens."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from interlock.note import new_signer_key
from interlock.store import Store
from serverkit import AGREEMENT, log_skey, operator_key, run_cli


def test_several_workers_need_postgresql(tmp_path: Path) -> None:
    (tmp_path / "log.skey").write_text(log_skey() + "\n")
    result = run_cli(["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--log-key", "log.skey", "--port", "0",
                      "--workers", "2"], tmp_path)
    assert result.returncode == 2 and "PostgreSQL" in result.stderr


def test_a_key_that_cannot_sign_the_existing_logs_is_refused(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    with Store.open(db) as store:
        store.register_log(AGREEMENT, log_skey(), datetime.now(UTC))
    other, _ = new_signer_key("log.test")  # same name, another key
    (tmp_path / "other.skey").write_text(other + "\n")
    result = run_cli(["serve", "--db", db, "--log-key", "other.skey", "--port", "0",
                      "--operator-key", operator_key()], tmp_path, timeout=30)
    assert result.returncode == 1
    assert "log-key-mismatch" in result.stderr and "listening" not in result.stdout


def test_a_bad_operator_key_or_witness_is_a_usage_error(tmp_path: Path) -> None:
    (tmp_path / "log.skey").write_text(log_skey() + "\n")
    base = ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--log-key", "log.skey", "--port", "0"]
    bad_operator = run_cli([*base, "--operator-key", "not-a-key"], tmp_path, timeout=30)
    assert bad_operator.returncode == 1 and "bad-key-file" in bad_operator.stderr
    bad_witness = run_cli([*base, "--witness", "http://127.0.0.1:1/no-key-here"], tmp_path, timeout=30)
    assert bad_witness.returncode == 2 and "URL=VERIFIERKEY" in bad_witness.stderr


def test_a_body_limit_beyond_what_an_entry_bundle_holds_is_a_usage_error(tmp_path: Path) -> None:
    """C2SP entry bundles prefix each entry with a uint16 length: a statement body above
    65,000 bytes could make an entry no tile reader can fetch, so serve refuses the setting."""
    from pydantic import ValidationError

    from interlock.server.settings import ServerSettings

    (tmp_path / "log.skey").write_text(log_skey() + "\n")
    base = ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--log-key", "log.skey", "--port", "0"]
    too_big = run_cli([*base, "--max-body-bytes", "65536"], tmp_path, timeout=30)
    assert too_big.returncode == 2 and "--max-body-bytes" in too_big.stderr
    assert "listening" not in too_big.stdout
    assert ServerSettings(max_body_bytes=65_000).max_body_bytes == 65_000
    with pytest.raises(ValidationError, match="max_body_bytes"):
        ServerSettings(max_body_bytes=65_001)
