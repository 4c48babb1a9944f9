"""Without PostgreSQL the Postgres tests are skipped with a reason, except under CI, where they fail."""

from __future__ import annotations

import pytest

from tests import pg_server


def test_missing_postgres_skips_locally(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    with pytest.raises(pytest.skip.Exception, match="PostgreSQL is not installed"):  # noqa: SIM117
        with pg_server.running_cluster():
            pass


def test_missing_postgres_fails_under_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    with pytest.raises(pytest.fail.Exception, match="required under CI=true"):  # noqa: SIM117
        with pg_server.running_cluster():
            pass
