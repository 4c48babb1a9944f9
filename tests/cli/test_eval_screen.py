"""`modbot eval --prefilter-only` shows what the learned screen adds to the keywords."""

from __future__ import annotations

import json
import random

from bot.cli import main


def test_prefilter_only_reports_keywords_and_screen_recall_and_pass_rate(tmp_path, capsys):
    rng = random.Random(3)
    rows = []
    for i in range(600):
        if i % 5 == 0:  # spam the keywords do not name: the screen must learn it from the labels
            text = f"get {rng.randint(1, 9)}k real {rng.choice(['likes', 'views', 'subs'])} at pumpr dot io"
            rows.append({"text": text, "label": 1})
        else:
            topic = rng.choice(["the raid", "dinner", "my cat", "homework", "the patch"])
            rows.append({"text": f"{rng.choice(['lol', 'ok so', 'honestly'])} {topic} was fun", "label": 0})
    data = tmp_path / "chat.jsonl"
    data.write_text("\n".join(json.dumps(r) for r in rows), encoding="utf-8")
    args = ["eval", "--policy", "spam-self-promotion", "--data", str(data), "--text-field", "text"]
    assert main([*args, "--label-field", "label", "--prefilter-only", "--json"]) == 0
    screen = json.loads(capsys.readouterr().out)["screen"]
    keywords, learned = screen["keywords"], screen["keywords+screen (learned here, 2-fold)"]
    assert keywords["recall"] < 0.5
    assert learned["recall"] >= 0.95 and learned["recall"] > keywords["recall"]
    assert learned["pass_rate"] <= 0.3  # it did not get there by sending everything
