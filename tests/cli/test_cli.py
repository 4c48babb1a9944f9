"""The command line as a policy author uses it: check, policy test, eval."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from bot.cli import main
from tests.fakes import FakeOllama, Reply, verdict_json

SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "eval" / "data"


def by_keyword(body: dict) -> Reply:
    """A stand-in model: a violation when the target mentions a link or 'free'."""
    target = body["messages"][-1]["content"].split("[TARGET]", 1)[-1].lower()
    bad = "http" in target or "free" in target or "aimbot" in target
    return Reply(verdict_json(int(bad), ["X1"] if bad else [], "high", "stand-in"), thinking="t")


@pytest.fixture
def ollama(monkeypatch):
    with FakeOllama(by_keyword).in_thread() as fake:
        monkeypatch.setenv("OLLAMA_HOST", fake.url)
        yield fake


def test_check_prints_one_json_verdict_per_line(ollama, capsys, monkeypatch):
    import io

    monkeypatch.setattr("sys.stdin", io.StringIO("selling aimbot cheap\nnice game yesterday\n"))
    code = main(["check", "--policy", "game-cheating", "-"])
    out = capsys.readouterr().out.strip().splitlines()
    assert code == 0
    first, second = (json.loads(line) for line in out)
    assert first["kind"] == "verdict" and first["violation"] is True
    assert first["prefilter"] == "keyword" and first["policy"]["id"] == "game-cheating"
    assert second["violation"] is False and second["prefilter"] is None
    assert len(ollama.requests) == 2


def test_check_as_live_skips_what_the_prefilter_does_not_select(ollama, capsys):
    code = main(["check", "--policy", "game-cheating", "--as-live", "nice game yesterday"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and out["kind"] == "not_selected" and not ollama.requests


def test_check_with_model_down_exits_3_and_says_why(capsys, monkeypatch):
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:9")
    code = main(["check", "--policy", "game-cheating", "aimbot"])
    captured = capsys.readouterr()
    assert code == 3
    assert json.loads(captured.out)["kind"] == "unavailable"
    assert "no usable answer" in captured.err


def test_check_unknown_policy_lists_the_known_ones(ollama, capsys):
    code = main(["check", "--policy", "nope", "x"])
    err = capsys.readouterr().err
    assert code == 2 and "game-cheating" in err and "Traceback" not in err


def test_policy_test_prints_confusion_and_fails_below_threshold(ollama, capsys):
    code = main(["policy", "test", "game-cheating", "--threshold", "1.0"])
    out = capsys.readouterr().out
    assert "predicted violation" in out and "accuracy" in out
    # The stand-in model only knows 'aimbot', so it misses some examples.
    assert code == 1


def _write_sample(path: Path) -> None:
    rows = [
        ("spam", "FREE entry! win a prize at http://win.example"),
        ("spam", "free ringtones, text now"),
        ("spam", "claim your reward today"),
        ("ham", "see you at lunch"),
        ("ham", "is the game free to play?"),
        ("ham", "ok"),
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for label, text in rows:
            fh.write(f"{label}\t{text}\n")


def eval_sample(tmp_path, capsys, *extra: str) -> tuple[int, dict]:
    data = tmp_path / "sms.tsv.gz"
    _write_sample(data)
    args = ["eval", "--policy", "spam-self-promotion", "--data", str(data), "--text-field", "1"]
    code = main([*args, "--label-field", "0", "--positive", "spam", "--json", *extra])
    return code, json.loads(capsys.readouterr().out)


def test_eval_reports_precision_recall_and_latency(ollama, tmp_path, capsys):
    code, report = eval_sample(tmp_path, capsys, "--skip-prefilter")
    assert code == 0
    model = report["model"]
    # The stand-in flags 'http'/'free': 2 of 3 spam found, 1 ham wrongly flagged.
    assert (model["tp"], model["fn"], model["fp"], model["tn"]) == (2, 1, 1, 2)
    assert model["precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert model["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert set(model["latency_ms"]) == {"p50", "p90", "p95", "p99"}
    assert model["calls"] == 6 == len(ollama.requests)


def test_eval_prefilter_only_makes_no_model_calls(ollama, tmp_path, capsys):
    code, report = eval_sample(tmp_path, capsys, "--prefilter-only")
    assert code == 0 and report["model"] is None and not ollama.requests
    assert 0.0 <= report["prefilter"]["recall_on_positives"] <= 1.0
    assert report["positives"] == 3


def test_eval_bad_field_is_a_clear_error(tmp_path, capsys):
    data = tmp_path / "d.jsonl"
    data.write_text('{"text": "hi", "label": 1}\n')
    code = main(
        [
            "eval",
            "--policy",
            "game-cheating",
            "--data",
            str(data),
            "--text-field",
            "body",
            "--label-field",
            "label",
            "--prefilter-only",
        ]
    )
    err = capsys.readouterr().err
    assert code == 2 and "--text-field" in err


@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared/eval/data is not beside the checkout")
def test_eval_on_a_real_labelled_set_through_the_fake_server(ollama, capsys):
    data = SHARED / "youtube-spam-collection" / "01-9bZkp7q19f0.csv"
    code = main(
        [
            "eval",
            "--policy",
            "spam-self-promotion",
            "--data",
            str(data),
            "--text-field",
            "CONTENT",
            "--label-field",
            "CLASS",
            "--positive",
            "1",
            "--limit",
            "120",
            "--json",
        ]
    )
    report = json.loads(capsys.readouterr().out)
    assert code == 0 and report["rows"] == 120 and report["positives"] > 0
    assert report["model"]["calls"] == report["prefilter"]["selected"] == len(ollama.requests)
    assert report["prefilter"]["recall_on_positives"] > 0


def test_secrets_never_reach_the_logs(monkeypatch, capsys, caplog, encoding):
    from tests.fakes import FakeOpenAI

    monkeypatch.setenv("ESCALATION_API_KEY", "sk-very-secret-value")
    with (
        FakeOllama(by_keyword).in_thread() as t1,
        FakeOpenAI(encoding=encoding, api_key="nope").in_thread() as t2,
    ):
        monkeypatch.setenv("OLLAMA_HOST", t1.url)
        monkeypatch.setenv("ESCALATION_URL", t2.url)
        caplog.set_level("DEBUG")
        code = main(["-v", "check", "--policy", "game-cheating", "--escalate", "aimbot for sale"])
    captured = capsys.readouterr()
    everything = captured.out + captured.err + caplog.text
    assert code == 0  # tier 2 refused the key, so tier 1's answer stands
    assert "ESCALATION_API_KEY" in everything  # the operator is told which setting to fix
    assert "sk-very-secret-value" not in everything
    from bot.config import Settings

    assert "sk-very-secret-value" not in repr(Settings())
