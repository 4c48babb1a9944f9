"""The screen benchmark's figures as summary rows and a docs/benchmarks.md section."""

from __future__ import annotations

from typing import Any

__all__ = ["screen_section", "screen_summary"]

TARGET_RECALL = 0.95
TARGET_CALLS = 100.0


def _pct(x: float | None) -> str:
    return "n/a" if x is None else f"{x:.1%}"


def screen_summary(s: dict[str, Any], prefix: str = "") -> list[tuple[str, str, str, str]]:
    last = s["screen"]["curve"][-1]
    kw_last = s["keywords"]["curve"][-1]
    recall_ok = last["window_recall"] >= TARGET_RECALL
    calls_ok = last["window_calls_per_1000"] <= TARGET_CALLS
    learned = s["screen"]["learned"]
    return [
        (
            f"8 {prefix}violations caught, screen learned ({last['window']} msgs)",
            f"{last['window_recall']:.1%} (keywords {kw_last['window_recall']:.1%})",
            f">= {TARGET_RECALL:.0%}",
            "pass" if recall_ok else "MISS",
        ),
        (
            f"8 {prefix}violations caught, screen learning ({learned['window']} msgs)",
            f"{learned['recall']:.1%} (keywords {s['keywords']['learned']['recall']:.1%})",
            f">= {TARGET_RECALL:.0%}",
            "pass" if learned["recall"] >= TARGET_RECALL else "MISS",
        ),
        (
            f"8 {prefix}model calls per 1,000 messages, with screen",
            f"{last['window_calls_per_1000']:.0f}",
            f"<= {TARGET_CALLS:.0f}",
            "pass" if calls_ok else "MISS",
        ),
        (
            f"8 {prefix}never fewer caught than keywords alone",
            "yes" if s["never_fewer_caught"] else "no",
            "yes",
            "pass" if s["never_fewer_caught"] else "MISS",
        ),
    ]


def _ceiling_clause(s: dict[str, Any]) -> str:
    ceil = s.get("ceiling")
    if not ceil:
        return ""
    at = ceil["by_capacity"][0]
    known = (
        f"With every label of the first half known, this model class reaches {at['recall']:.1%} "
        f"over the second half at {at['capacity']:g} calls (ceiling below)"
    )
    if s["screen"]["curve"][-1]["window_recall"] >= at["recall"]:
        return known + "; learning only from the violations it finds itself, the screen is there by the end. "
    return known + "; below that ceiling, the screen learns only from the violations it finds itself. "


def _reading(s: dict[str, Any]) -> list[str]:
    """What the figures say, in numbers taken from this run."""
    kw, sc = s["keywords"], s["screen"]
    last, kw_last = sc["curve"][-1], kw["curve"][-1]
    prev = sc["curve"][-2] if len(sc["curve"]) > 1 else last
    checks = sum(c for c, _h in sc["screen_checks"].values())
    hits = sum(h for _c, h in sc["screen_checks"].values())
    n = s["messages"]
    spare = 1000 * checks / n
    missed = 1000 * s["violations"] / n * (1 - kw_last["recall"])
    precision = hits / checks if checks else 0.0
    need = (
        TARGET_RECALL * s["violations"] / n * 1000 - 1000 * s["violations"] / n * kw_last["recall"]
    ) / max(spare, 1e-9)
    verdict = "meets" if last["window_recall"] >= TARGET_RECALL else "misses"
    return [
        f"**Reading.** Once it has learned, the screen {verdict} the {TARGET_RECALL:.0%} recall target: "
        f"{last['window_recall']:.1%} of the violations in the last window are caught at "
        f"{last['window_calls_per_1000']:.0f} calls per 1,000 messages, against "
        f"{kw_last['window_recall']:.1%} for keywords alone at {kw_last['window_calls_per_1000']:.0f}. "
        f"The verdict cache answered {sc['cache_hits']:,} checks without a call (benign chat repeats: "
        f"{s['repeats']:,} of the {n:,} messages repeat an earlier text); "
        f"the screen checked {spare:.0f} offers per 1,000 messages, {precision:.0%} of them "
        f"violations, while keywords let {missed:.1f} violations per 1,000 messages past. At this "
        f"capacity the target needs about {min(need, 9.99):.0%} of the screen's checks to be violations. "
        f"{_ceiling_clause(s)}Between the last two windows its recall went from "
        f"{prev['window_recall']:.1%} to {last['window_recall']:.1%}; over everything after "
        f"{sc['learned']['window'].split('-')[0]} messages it is {sc['learned']['recall']:.1%}.",
    ]


def screen_section(s: dict[str, Any], heading: str = "Learned screen: the learning curve") -> list[str]:
    kw, sc = s["keywords"], s["screen"]
    out = [
        f"## {heading}",
        "",
        f"A stream of {s['messages']:,} messages ({s['source']}) with {s['violations']:,} labelled "
        f"violations, replayed through the library policies' prefilters, the learned screens and "
        f"the scheduler at a fixed GPU capacity of {s['capacity_per_1000']:g} model calls per 1,000 "
        "messages (bench/screen_bench.py). An emulated model answers with the data set's label; a "
        "violation is caught when the model judged it under the policy it violates (or the verdict "
        "cache answered with its earlier verdict on the same text, which the bot flags too). Random checks: "
        f"{s['random_rate']:g} of (message, policy) pairs. Each window's figures cover the messages "
        "since the previous checkpoint, so the last window shows the screen once it has learned.",
        "",
        "| after | window | calls/1,000 keywords | recall keywords | calls/1,000 with screen "
        "| recall with screen |",
        "|---|---|---|---|---|---|",
    ]
    for k, c in zip(kw["curve"], sc["curve"], strict=True):
        out.append(
            f"| {c['messages']:,} | {c['window']} ({c['window_violations']} violations) "
            f"| {k['window_calls_per_1000']:.0f} | {_pct(k['window_recall'])} "
            f"| {c['window_calls_per_1000']:.0f} | {_pct(c['window_recall'])} |"
        )
    out += ["", "Per policy over the whole stream:", "", "| policy | violations | keywords | with screen |"]
    out.append("|---|---|---|---|")
    for pid, fig in sc["per_policy"].items():
        out.append(
            f"| {pid} | {fig['violations']} | {_pct(kw['per_policy'][pid]['recall'])} "
            f"| {_pct(fig['recall'])} |"
        )
    out += ["", *_reading(s)]
    if s.get("draws"):
        first = sc["curve"][-1]["window_recall"]
        runs = [{"seed": s.get("seed", 0), "last": first, "learned": sc["learned"]}]
        runs += s["draws"]
        cells = ", ".join(f"seed {r['seed']}: {r['last']:.1%} ({r['learned']['recall']:.1%})" for r in runs)
        mean_last = sum(r["last"] for r in runs) / len(runs)
        mean_learned = sum(r["learned"]["recall"] for r in runs) / len(runs)
        out += [
            "",
            f"**Other draws of the same data** (the stream's seed; last window, and over "
            f"{sc['learned']['window']} in brackets): {cells}. Mean {mean_last:.1%} ({mean_learned:.1%}); "
            f"lowest {min(r['last'] for r in runs):.1%}.",
        ]
    if s.get("sweep"):
        cells = ", ".join(
            f"{x['capacity']:g} calls per 1,000 messages: {x['recall']:.1%}" for x in s["sweep"]
        )
        out += [
            "",
            f"With more GPU capacity, the same stream's last window ({s['sweep'][0]['window']}): {cells}.",
        ]
    if s.get("uncached"):
        bare = s["uncached"]
        out += [
            "",
            "**Without the verdict cache** (every check a model call, as for chat that never repeats "
            f"itself), same stream and capacity: {bare['last']['window_recall']:.1%} in the last window "
            f"({bare['last']['window']}), {bare['learned']['recall']:.1%} over {bare['learned']['window']}.",
        ]
    if s.get("ceiling"):
        ceil = s["ceiling"]
        cells = ", ".join(f"{x['capacity']:g}: {x['recall']:.1%}" for x in ceil["by_capacity"])
        out += [
            "",
            "**Ceiling of this model class** (bench/screen_ceiling.py): the same features and trainer "
            "trained once on every label of the first half, as if the 20b had checked every message, "
            f"then ranked on the second half ({ceil['window']}; keywords select "
            f"{ceil['certain_per_1000']:.0f} pairs per 1,000 messages for certain). Recall by capacity "
            f"(calls per 1,000 messages): {cells}.",
        ]
    offers = sc["offers"] or {}
    est = sc["random_estimate"] or {}
    low, high = est.get("screen_recall_ci95", (0.0, 1.0))
    out += [
        "",
        f"- Model calls by reason, with screen: {sc['by_reason']}; keywords alone: {kw['by_reason']}.",
        f"- Screen offers checked per policy (checked, violations): {sc['screen_checks']}.",
        f"- Offers: {offers.get('offered', 0):,} made, {offers.get('taken', 0):,} taken, "
        f"{offers.get('dropped_full', 0):,} pushed out by higher scores, {offers.get('dropped_stale', 0):,} "
        "aged out: the queue stays bounded whatever the stream.",
        f"- Recall estimated from the {est.get('checks', 0)} random checks: "
        f"{_pct(est.get('screen_recall'))} (95% CI {low:.0%}-{high:.0%}, {est.get('violations', 0)} "
        f"violations among them; keywords alone {_pct(est.get('keyword_recall'))}).",
        f"- Retraining took {sc['train_s']:.1f} s of CPU in total; {sc['screens']['promoted']} models "
        f"promoted, {sc['screens']['kept_predecessor']} candidates refused (held-back recall lower).",
        "",
        "Reproduce: `.venv/bin/python -m bench --only screen` (or `--screen-data FILE.jsonl`, lines "
        '`{"text", "policy", "label"}` in stream order, benign lines with an empty policy).',
        "",
    ]
    return out
