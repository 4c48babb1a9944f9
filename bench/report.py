"""The figures as rows: one summary row per target (value, target, pass / miss) and detail rows."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from bench.screen_report import screen_summary

__all__ = ["Row", "Summary", "detail_rows", "prefilter_rows", "print_table", "summary_rows"]

Row = tuple[str, str, str, str]  # benchmark, figure, value, note
Summary = tuple[str, str, str, str]  # figure, value, target, pass | MISS | info


def _verdict(ok: bool) -> str:
    return "pass" if ok else "MISS"


def _s(x: float) -> str:
    return "n/a" if math.isnan(x) else f"{x:.2f} s"


def summary_rows(r: dict[str, Any]) -> list[Summary]:
    """One row per figure the issue asks for, in its order, for whatever ran."""
    rows: list[Summary] = []
    if "prefilter" in r:
        p = r["prefilter"]
        ok = p["msgs_per_s"] >= p["target_msgs_per_s"]
        rows.append(
            ("1 prefilter throughput, 1 core", f"{p['msgs_per_s']:,.0f} msgs/s", ">= 5,000", _verdict(ok))
        )
    if "backlog" in r:
        b = r["backlog"]
        rows.append(
            (
                "2 slot utilisation under backlog",
                f"{b['utilisation']:.1%}",
                ">= 95%",
                _verdict(b["utilisation"] >= 0.95),
            )
        )
    if "backlog" in r and "direct" in r:
        ratio = r["backlog"]["calls_per_s"] / r["direct"]["calls_per_s"]
        value = f"{ratio:.3f}x ({r['backlog']['calls_per_s']:.3f} / {r['direct']['calls_per_s']:.3f} calls/s)"
        rows.append(("3 pipeline / direct throughput", value, ">= 0.95x", _verdict(ratio >= 0.95)))
    if "latency" in r:
        lat = r["latency"]
        value = f"{_s(lat['flag_p50_s'])} / {_s(lat['flag_p95_s'])}"
        rows.append((f"4 flag latency p50 / p95, {lat['load']:.0%} load", value, "(reported)", "info"))
    if "stream" in r:
        st = r["stream"]
        without = st["calls_without_prefilter_or_cache"]
        value = f"{st['total_saved_share']:.1%} ({st['model_calls']:,} of {without:,})"
        rows.append(("5 model calls saved, prefilter+cache", value, "(reported)", "info"))
    if "fairness" in r:
        f = r["fairness"]
        value = f"{f['p95_ratio']:.2f}x ({_s(f['flooded']['p95_s'])} vs {_s(f['alone']['p95_s'])})"
        rows.append(("6 quiet p95 wait, 100x flood / alone", value, "<= 2x", _verdict(f["p95_ratio"] <= 2.0)))
    if "memory" in r:
        m = r["memory"]
        value = f"{m['rss_mb']:.0f} MB (+{m['delta_mb']:.1f} MB)"
        label = f"7 RSS, {m['spaces']:,} spaces x {m['policies_per_space']} policies"
        rows.append((label, value, "<= 200 MB", _verdict(m["rss_mb"] <= m["target_mb"])))
    if "screen" in r:
        rows += screen_summary(r["screen"])
    if "screen_heldout" in r:
        rows += screen_summary(r["screen_heldout"], "held-out tweets: ")
    return rows


def _backlog_rows(b: dict[str, Any], d: dict[str, Any] | None) -> list[Row]:
    n = f"backlog ({b['slots']} slots, {b['spaces']} spaces x {b['policies']} policies)"
    st = b["pipeline"]
    rows: list[Row] = [
        (n, "messages / jobs", f"{b['messages']} / {b['jobs']}", "distinct texts: no cache hits"),
        (
            n,
            "model calls / cache hits",
            f"{st['model_calls']} / {st['cache_hits']}",
            f"retries {st['retries']}",
        ),
        (n, "slot utilisation", f"{b['utilisation']:.1%}", "first to last call start (work waiting)"),
        (
            n,
            "slot utilisation with tail",
            f"{b['utilisation_with_tail']:.1%}",
            "first submit to last verdict",
        ),
        (n, "idle slot time per call", f"{b['idle_per_call_real_ms']:.2f} ms real", "pipeline + client"),
        (n, "utilisation at real speed", f"{b['utilisation_at_real_speed']:.1%}", "same idle time, 1x time"),
        (n, "throughput", f"{b['calls_per_s']:.3f} calls/s", "first submit to last verdict"),
        (n, "submit", f"{b['submit_real_ms_per_msg']:.2f} ms real/msg", "prefilter + durable inbox"),
        (n, "wall", f"{b['wall_s']:.1f} s model", f"time scale {b['time_scale']}"),
    ]
    if d is not None:
        w = d["backlog_window"]
        rows += [
            (
                n,
                "direct: throughput",
                f"{d['calls_per_s']:.3f} calls/s",
                f"same jobs; ideal {d['ideal_calls_per_s']:.3f}",
            ),
            (n, "direct: slot utilisation", f"{w['utilisation']:.1%}", "same window definition"),
            (n, "direct: idle per call", f"{w['idle_per_call_real_ms']:.2f} ms real", "ollama client + HTTP"),
        ]
    return rows


def prefilter_rows(r: dict[str, Any]) -> list[Row]:
    b = f"prefilter ({r['policies']} policies)"
    ok = "ok" if r["msgs_per_s"] >= r["target_msgs_per_s"] else "BELOW TARGET"
    rows: list[Row] = [
        (b, "throughput (1 core)", f"{r['msgs_per_s']:,.0f} msgs/s", f">= {r['target_msgs_per_s']:,} {ok}"),
        (
            b,
            "prepare / match / screen",
            f"{r['prepare_us_per_msg']:.0f} / {r['match_us_per_msg']:.0f} / "
            f"{r.get('screen_us_per_msg', 0.0):.0f} us/msg",
            "screen: learned score of every policy no keyword selected",
        ),
        (
            b,
            "model calls",
            f"{r['model_calls']:,} of {r['model_calls_without_prefilter']:,}",
            f"{r['calls_saved_share']:.1%} saved",
        ),
        (b, "msgs with a candidate", f"{r['messages_with_any_candidate']:,} of {r['messages']:,}", ""),
    ]
    for pid, e in r["per_policy"].items():
        note = f"saves {e['saved_share']:.1%}"
        if "selected_pos_share" in e:
            note += f"; picks {e['selected_pos_share']:.0%} of pos, {e['selected_neg_share']:.1%} of neg"
        rows.append((b, f"  {pid}", f"{e['selected']:,} selected", note))
    return rows


def detail_rows(r: dict[str, Any]) -> list[Row]:
    rows: list[Row] = prefilter_rows(r["prefilter"]) if "prefilter" in r else []
    if "backlog" in r:
        rows += _backlog_rows(r["backlog"], r.get("direct"))
    elif "direct" in r:
        d = r["direct"]
        rows += [
            (
                "direct load",
                "throughput",
                f"{d['calls_per_s']:.3f} calls/s",
                f"ideal {d['ideal_calls_per_s']:.3f}",
            ),
            ("direct load", "slot utilisation", f"{d['utilisation']:.1%}", f"{d['calls']} calls"),
            ("direct load", "overhead per call", f"{d['overhead_per_call_real_ms']:.2f} ms real", ""),
        ]
    if "latency" in r:
        lat = r["latency"]
        n = f"latency ({lat['load']:.0%} of {lat['capacity_calls_per_s']:.2f} calls/s)"
        rows += [
            (n, "jobs / flags", f"{lat['jobs']} / {lat['flags']}", "one candidate policy per message"),
            (n, "slot utilisation", f"{lat['utilisation']:.1%}", "Poisson arrivals"),
            (
                n,
                "submit -> verdict p50 / p95",
                f"{_s(lat['verdict_p50_s'])} / {_s(lat['verdict_p95_s'])}",
                "model s",
            ),
            (n, "submit -> flag p50 / p95", f"{_s(lat['flag_p50_s'])} / {_s(lat['flag_p95_s'])}", "model s"),
            (
                n,
                "verdict -> flag p50 / p95",
                f"{_s(lat['outbox_delay_p50_s'])} / {_s(lat['outbox_delay_p95_s'])}",
                f"outbox polls every {lat['outbox_poll_model_s']:.1f} s model",
            ),
            (n, "model time per call", f"{lat['model_busy_per_call_s']:.3f} s", ""),
        ]
    if "stream" in r:
        st = r["stream"]
        n = f"stream ({st['policies']} policies)"
        mix = f"{st['real_messages']:,} real, {st['flood_copies']} flood copies"
        mix += f", {st['redeliveries']} redelivered"
        without = st["calls_without_prefilter_or_cache"]
        rows += [
            (n, "messages", f"{st['messages']:,}", mix),
            (n, "prefilter candidates", f"{st['candidates']:,}", f"{st['prefilter_saved_share']:.1%} saved"),
            (n, "duplicate jobs", f"{st['duplicates']:,}", "redelivered events"),
            (n, "cache hits", f"{st['cache_hits']:,}", f"{st['cache_saved_share']:.1%} of jobs"),
            (n, "model calls", f"{st['model_calls']:,}", f"of {without:,} without either"),
            (n, "verdicts / failed", f"{st['verdicts']:,} / {st['failed']}", ""),
        ]
    if "fairness" in r:
        f = r["fairness"]
        n = f"fairness (quiet load {f['quiet_load']:.0%})"
        for key in ("alone", "flooded"):
            x = f[key]
            value = f"{_s(x['p50_s'])} / {_s(x['p95_s'])} / {_s(x['max_s'])}"
            note = f"{x['quiet_jobs']} quiet jobs; slots {x['utilisation']:.0%} busy"
            rows.append((n, f"{key}: p50 / p95 / max", value, note))
        note = f"{f['flood_jobs']:,} jobs, {f['factor']:.0f}x quiet"
        rows.append((n, "flood", f"{f['flood_messages']:,} msgs", note))
    if "memory" in r:
        m = r["memory"]
        n = "memory"
        per_space = f"{m['delta_mb'] * 1024 / m['spaces']:.1f} KB"
        rows += [
            (n, "baseline RSS", f"{m['baseline_mb']:.1f} MB", "core started, tokenizer + policies loaded"),
            (
                n,
                "RSS / peak",
                f"{m['rss_mb']:.1f} / {m['peak_mb']:.1f} MB",
                f"{m['spaces_with_loaded_book']:,} books",
            ),
            (n, "per space", per_space, f"{m['distinct_compiled_policies']} distinct compiled policies"),
            (n, "install", f"{m['install_ms_per_policy']:.2f} ms/policy", m["install"]),
        ]
    return rows


def print_table(rows: Sequence[tuple[str, ...]], header: Sequence[str] | None = None) -> None:
    table = [tuple(header), *rows] if header else list(rows)
    if not table:
        return
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    last = ""
    for k, row in enumerate(table):
        first = row[0] if row[0] != last or (header and k == 0) else ""
        last = row[0]
        cells = [first.ljust(widths[0]), *(c.ljust(w) for c, w in zip(row[1:-1], widths[1:], strict=True))]
        print("  ".join([*cells, row[-1]]).rstrip())
