"""Resident memory of a bot serving many spaces (target: <= 200 MB with 1,000 spaces x 5 policies).

Runs in a fresh interpreter so nothing the other benchmarks allocated is counted. Baseline:
the core started on an empty store, every module imported and the tokenizer loaded (what any
bot process holds). Then each space is created and given 5 library policies through
admin.upload (validated, versioned, audited, as an admin's upload would be), gets one real
message, and the model answers every job (the emulator runs in the parent's child process).
"""

from __future__ import annotations

import asyncio
import json
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

__all__ = ["TARGET_MB", "run_memory"]

TARGET_MB = 200.0
ROOT = Path(__file__).resolve().parents[1]


def _status_mb(field: str) -> float:
    """A VmRSS/VmHWM line of /proc/self/status in MB; ru_maxrss where /proc is missing."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def _measure(
    model_url: str, spaces: int, per_space: int, time_scale: float, slots: int, upload: bool
) -> dict[str, Any]:
    import gc

    from bench.data import load_messages
    from bench.rig import ADMIN, PLATFORM, CoreRig, library_yaml, make_message

    texts = [s.text for s in load_messages(spaces)]
    library = library_yaml()
    ids = sorted(library)
    async with CoreRig(model_url, workers=slots, time_scale=time_scale) as rig:
        core = rig.core
        # Any bot compiles its policies at start; the first compile also builds the tokenizer's
        # tables (~55 MB). Both belong to the baseline, not to the spaces.
        hashes = {
            pid: (await core.book.compile(text, f"{pid}.yaml")).content_hash for pid, text in library.items()
        }
        gc.collect()
        baseline = _status_mb("VmRSS")
        t0 = time.monotonic()
        for n in range(spaces):
            space = f"space-{n:04d}"
            await core.ensure_space(
                space, PLATFORM, space, mod_channel_id="mods", budget_per_minute=1_000_000
            )
            chosen = [ids[(n + k) % len(ids)] for k in range(per_space)]
            if upload:  # what an admin does: validated, versioned and audited one by one
                for pid in chosen:
                    result = await core.admin.upload(space, ADMIN, library[pid], mode="live", source=pid)
                    if not result.ok:
                        raise RuntimeError(result.message)
                continue
            async with core.store.transaction():  # batch: the same rows, one commit per space
                for pid in chosen:
                    await core.store.policies.save_version(
                        space, pid, library[pid], hashes[pid], ADMIN.user_id, note="bench", mode="live"
                    )
        installed = time.monotonic()
        for n in range(spaces):
            await rig.submit(make_message(f"space-{n:04d}", f"m{n}", texts[n % len(texts)]))
        submitted = time.monotonic()
        await core.settle(timeout_s=300)
        settled = time.monotonic()
        gc.collect()
        rss = _status_mb("VmRSS")
        loaded = sum(1 for n in range(spaces) if f"space-{n:04d}" in core.book._spaces)
        st = core.pipeline.stats
        return {
            "spaces": spaces,
            "policies_per_space": per_space,
            "installed_policies": spaces * per_space,
            "spaces_with_loaded_book": loaded,
            "distinct_compiled_policies": core.book.distinct_policies,
            "model_calls": st.model_calls,
            "verdicts": st.verdicts,
            "flags_posted": len(rig.platform.flags),
            "baseline_mb": baseline,
            "rss_mb": rss,
            "delta_mb": rss - baseline,
            "peak_mb": _status_mb("VmHWM"),
            "install_s": installed - t0,
            "install": "admin.upload" if upload else "store.policies.save_version (batched)",
            "install_ms_per_policy": (installed - t0) / (spaces * per_space) * 1000,
            "submit_ms": (submitted - installed) / spaces * 1000,
            "settle_s": settled - submitted,
            "target_mb": TARGET_MB,
        }


async def run_memory(
    *,
    spaces: int,
    per_space: int,
    slots: int,
    mean_latency_s: float,
    time_scale: float,
    seed: int,
    upload: bool = True,
) -> dict[str, Any]:
    """Start the emulator here, measure in a fresh interpreter, return its figures."""
    from bench.emulator_proc import EmulatorProcess

    async with EmulatorProcess(
        slots=slots, mean_latency_s=mean_latency_s, time_scale=time_scale, seed=seed
    ) as emu:
        args = json.dumps([emu.url, spaces, per_space, time_scale, slots, upload])
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bench.memory_bench", args,
            stdout=subprocess.PIPE, cwd=ROOT,
        )  # fmt: skip
        out, _ = await proc.communicate()
    if proc.returncode != 0:
        raise RuntimeError(f"memory benchmark process failed with code {proc.returncode}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result


if __name__ == "__main__":
    print(json.dumps(asyncio.run(_measure(*json.loads(sys.argv[1])))))
