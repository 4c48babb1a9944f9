"""Model calls saved by the prefilter and the verdict cache over a realistic stream.

Real messages in data order (chat, comments, prompts), a few spam floods (the same text
posted many times, some copies with the evasions the normaliser undoes: upper case,
zero-width characters, full-width letters), and a few gateway redeliveries of events
already submitted. Every library policy runs in every space. Counts, not timings, matter
here, so the emulator runs at a strong time compression.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from bench.data import Sample
from bench.emulator_proc import EmulatorProcess
from bench.rig import CoreRig, library_yaml, make_message
from bench.workload import candidates
from bot.core.messages import IncomingMessage

__all__ = ["build_stream", "run_stream"]

_FULLWIDTH = {c: chr(ord(c) + 0xFEE0) for c in "abcdefghijklmnopqrstuvwxyz"}


def _evade(text: str, rng: random.Random) -> str:
    """A copy of a spam text with one evasion the normaliser is meant to undo."""
    kind = rng.randrange(4)
    if kind == 0:
        return text
    if kind == 1:
        return text.upper()
    if kind == 2:  # zero-width space between the letters of the first long word
        words = text.split(" ")
        i = max(range(len(words)), key=lambda j: len(words[j]))
        words[i] = "\u200b".join(words[i])
        return " ".join(words)
    return "".join(_FULLWIDTH.get(c, c) for c in text)


def build_stream(
    samples: Sequence[Sample],
    *,
    messages: int,
    spaces: int,
    floods: int,
    copies: int,
    redelivered: float,
    seed: int,
    policy_ids: Sequence[str],
) -> list[IncomingMessage]:
    """`messages` real messages plus `floods` x `copies` flood copies and some redeliveries.

    Flood texts are real spam that some policy's prefilter selects (so each is a model job).
    """
    rng = random.Random(seed)
    names = [f"stream-{i}" for i in range(spaces)]
    base = [s.text for s in samples[:messages]]
    spam = [s.text for s in samples[messages:] if s.label == 1 and s.source != "openai" and len(s.text) > 40]
    stream = [
        make_message(names[i % spaces], f"s{i}", t, author=f"member{i % 89}") for i, t in enumerate(base)
    ]
    rng.shuffle(spam)
    # Floods the policies are about (a flood no prefilter selects costs nothing anyway).
    chosen = [t for t in spam[: floods * 20] if candidates(make_message(names[0], "probe", t), policy_ids)]
    for f, text in enumerate(chosen[:floods]):
        at = rng.randrange(len(stream) + 1)
        space = names[f % spaces]  # a raid hits one server, from a handful of accounts
        burst = [
            make_message(space, f"flood{f}-{k}", _evade(text, rng), author=f"raider{k % 5}")
            for k in range(copies)
        ]
        stream[at:at] = burst
    for _ in range(int(len(stream) * redelivered)):  # the gateway sends an event again
        i = rng.randrange(len(stream))
        stream.insert(min(len(stream), i + rng.randrange(1, 20)), stream[i])
    return stream


async def run_stream(
    samples: Sequence[Sample],
    *,
    messages: int,
    slots: int,
    mean_latency_s: float,
    time_scale: float,
    seed: int,
    spaces: int = 3,
    floods: int = 6,
    copies: int = 40,
    redelivered: float = 0.01,
) -> dict[str, Any]:
    policy_ids = sorted(library_yaml())
    stream = build_stream(
        samples, messages=messages, spaces=spaces, floods=floods, copies=copies,
        redelivered=redelivered, seed=seed, policy_ids=policy_ids,
    )  # fmt: skip
    async with (
        EmulatorProcess(slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed) as emu,
        CoreRig(emu.url, workers=slots, time_scale=time_scale) as rig,
    ):
        for space in sorted({m.space_id for m in stream}):
            await rig.add_space(space, policy_ids)
        for msg in stream:
            await rig.submit(msg)
        await rig.core.pipeline.drain(timeout_s=120)
        st = asdict(rig.core.pipeline.stats)
        emu_calls = emu.stats()["calls"]
    n = st["submitted"]
    without = n * len(policy_ids)
    return {
        "messages": n,
        "real_messages": messages,
        "flood_copies": len({m.message_id for m in stream if m.message_id.startswith("flood")}),
        "redeliveries": len(stream) - len({(m.space_id, m.message_id) for m in stream}),
        "policies": len(policy_ids),
        "calls_without_prefilter_or_cache": without,
        "emulator_calls": emu_calls,
        "prefilter_saved_share": 1 - st["candidates"] / without,
        "cache_saved_share": st["cache_hits"] / max(1, st["candidates"] - st["duplicates"]),
        "total_saved_share": 1 - st["model_calls"] / without,
        "time_scale": time_scale,
        **st,
    }
