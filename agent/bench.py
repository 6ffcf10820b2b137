"""``attune bench``: every performance figure in one JSON document.

Targets (issue list): the default engine at >= 0.8x llama.cpp's tokens/s and
first token p50 <= 0.3 s; a new process: `attune ask` <= 3 s, `attune screen`
<= 1.5 s, `attune compose` of 60 s <= 1.5 s; complete turn p95 <= 2.5 s and first streamed text
p50 <= 0.8 s with the embedded model; music 60 s compose+render <= 1 s and
<= 1.5x ``fluidsynth -F``; screening p95 <= 10 ms; mood p95 <= 20 ms;
face snapshot and EEG index per second of data printed as measured;
retrieval p95 <= 10 ms; serving memory <= 1.5 GB; 8 concurrent sessions
with 0 errors and p95 <= 3x single-user. Numbers print as measured; nothing
here asserts them (that is the report's job).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

__all__ = ["register", "run_bench"]

EXPLORE_MESSAGES = [
    "I had a rough day at work and I feel exhausted",
    "yes, that's fine",
    "my manager criticised me in front of everyone",
    "I keep going over it again and again",
    "I just want to feel a bit calmer tonight",
    "my sister called and that helped a little",
    "I'm worried about tomorrow's meeting",
    "I think I need to rest more",
    "sometimes I feel nobody notices how hard I try",
    "talking about it helps a bit",
    "I'd like to sleep better this week",
    "thanks for listening",
]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return round(ordered[idx], 4)


def _turn_latency(ctx, code: str, messages: list[str]) -> tuple[list[float], list[float], list[str]]:
    """Seconds per complete turn and to the first streamed text; turns that composed music are left out."""
    from .events import ReplyDelta, TurnDone, TurnFailed
    from .turn import run_turn

    ref = ctx.start_session(code)
    totals, firsts, errors = [], [], []
    for text in messages:
        start = time.perf_counter()
        first = None
        composed = False
        try:
            for ev in run_turn(ctx, ref, text):
                if isinstance(ev, ReplyDelta) and first is None:
                    first = time.perf_counter() - start
                if isinstance(ev, TurnDone) and ev.music is not None:
                    composed = True
                if isinstance(ev, TurnFailed):
                    raise RuntimeError(f"{ev.error}: {ev.message}")
        except Exception as exc:  # counted, not raised: the bench reports errors
            errors.append(f"{type(exc).__name__}: {exc}")
            continue
        if composed:
            continue
        totals.append(time.perf_counter() - start)
        firsts.append(first if first is not None else totals[-1])
    return totals, firsts, errors


STARTUP_GOALS_S = {"ask": 3.0, "screen": 1.5, "compose_60s": 1.5}


def _startup_bench(rounds: int = 3) -> dict:
    """Wall time of each command in a new process (median of ``rounds`` after one warm-up run), and a 60 s
    piece against raw ``fluidsynth -F`` on the same MIDI file."""
    import os
    import shutil
    import subprocess

    from .config import DEFAULT_SOUNDFONT, load_settings

    work = Path(tempfile.mkdtemp(prefix="attune-startup-"))
    env = {**os.environ, "ATTUNE_DATA_DIR": str(work / "data")}
    attune = [sys.executable, "-m", "attune.agent.cli"]
    commands = {
        "screen": attune + ["screen", "--text", "I had a long day and I feel tired"],
        "compose_60s": attune + ["compose", "--valence", "-0.3", "--arousal", "0.2", "--to-valence", "0.2",
                                 "--to-arousal", "-0.3", "--seconds", "60", "--out", str(work / "a.wav"),
                                 "--midi", str(work / "a.mid")],
        "ask": attune + ["ask", "I had a long day and I feel tired"],
    }
    out: dict = {}
    for name, cmd in commands.items():
        times = []
        for i in range(rounds + 1):
            start = time.perf_counter()
            done = subprocess.run(cmd, env=env, capture_output=True, text=True)
            if done.returncode != 0:
                out[name] = {"error": done.stderr.strip()[-300:]}
                break
            if i:  # the first run builds the caches
                times.append(time.perf_counter() - start)
        else:
            out[name] = {"wall_s": round(statistics.median(times), 2), "goal_s": STARTUP_GOALS_S[name],
                         "ok": statistics.median(times) <= STARTUP_GOALS_S[name]}
    soundfont = str(load_settings().soundfont or DEFAULT_SOUNDFONT)
    if shutil.which("fluidsynth") and (work / "a.mid").exists() and "wall_s" in out.get("compose_60s", {}):
        raw = []
        for _ in range(rounds):
            start = time.perf_counter()
            subprocess.run(["fluidsynth", "-ni", "-q", "-F", str(work / "raw.wav"), "-r", "44100", soundfont,
                            str(work / "a.mid")], capture_output=True)
            raw.append(time.perf_counter() - start)
        out["fluidsynth_raw_60s_s"] = round(statistics.median(raw), 2)
        out["compose_vs_raw"] = round(out["compose_60s"]["wall_s"] / statistics.median(raw), 2)
    shutil.rmtree(work, ignore_errors=True)
    return out


READER_GOAL_P95_MS = 15.0


def _reader_bench(rounds: int = 10) -> dict:
    """Reading a message (intent, changes, goal, the person's words): first load, then ms per message."""
    from .reader import get_reader, read

    t0 = time.perf_counter()
    get_reader()
    first = time.perf_counter() - t0
    messages = EXPLORE_MESSAGES + ["That was too slow, make the next one faster and brighter", "no piano please",
                                   "could you play me something calm before bed?", "why start with sad music?"]
    times = []
    for _ in range(rounds):
        for m in messages:
            t = time.perf_counter()
            read(m)
            times.append((time.perf_counter() - t) * 1000)
    return {"first_load_s": round(first, 2), "p50_ms": _pct(times, 50), "p95_ms": _pct(times, 95),
            "messages": len(times), "goal_p95_ms": READER_GOAL_P95_MS, "ok": _pct(times, 95) <= READER_GOAL_P95_MS}


def run_bench(sections: set[str] | None = None) -> dict:
    from .config import load_settings
    from .context import AppContext

    want = lambda name: sections is None or name in sections  # noqa: E731
    out: dict = {"machine": {"cpus": __import__("os").cpu_count()}}
    tmp = Path(tempfile.mkdtemp(prefix="attune-bench-"))
    if want("engine"):
        from .llm.bench import engine_bench
        out["engine"] = engine_bench()
    if want("startup"):
        out["startup"] = _startup_bench()
    if want("music"):
        from attune.tools.music.bench import bench as music_bench
        out["music"] = music_bench()
    if want("screening"):
        from .safety.bench import bench as safety_bench
        out["screening"] = safety_bench()
    if want("mood"):
        from attune.tools.mood.bench import bench as mood_bench
        out["mood"] = mood_bench()
    if want("reader"):
        out["reader"] = _reader_bench()
    if want("senses"):
        from attune.tools.mood.eeg import bench_eeg
        from attune.tools.mood.face import bench_face
        try:
            out["face"] = bench_face()
        except ImportError as err:  # the astronaut photo comes with scikit-image (test extra)
            out["face"] = {"skipped": f"needs scikit-image for its sample photo: {err}"}
        out["eeg"] = bench_eeg()
    if want("retrieval"):
        from attune.knowledge.bench import bench as kb_bench
        out["retrieval"] = kb_bench(tmp / "kb")
    if want("turn") or want("concurrency"):
        settings = load_settings(data_dir=tmp / "data")
        ctx = AppContext.create(settings)
        load_start = time.perf_counter()
        ctx.backend.model.load()
        load_s = time.perf_counter() - load_start
        _turn_latency(ctx, "bench-warm", EXPLORE_MESSAGES[:3])  # warm every lazy part
        totals, firsts, errors = _turn_latency(ctx, "bench-single", EXPLORE_MESSAGES)
        steady, steady_first = totals[1:], firsts[1:]  # the first turn is the scripted check-in
        out["turn"] = {
            "backend": ctx.backend.name, "model_load_s": round(load_s, 2), "turns": len(totals),
            "turn_p50_s": _pct(steady, 50), "turn_p95_s": _pct(steady, 95),
            "first_text_p50_s": _pct(steady_first, 50), "first_text_p95_s": _pct(steady_first, 95),
            "errors": errors, "engine": ctx.backend.options.get("engine", ctx.backend.name),
        }
        if want("concurrency"):
            results: dict[int, tuple] = {}

            def worker(i: int) -> None:
                results[i] = _turn_latency(ctx, f"bench-concurrent-{i}", EXPLORE_MESSAGES[:5])

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
            start = time.perf_counter()
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - start
            all_totals = [x for r in results.values() for x in r[0][1:]]
            errs = [e for r in results.values() for e in r[2]]
            mixed = 0
            for i in range(8):  # no session may hold another's messages
                pid = ctx.store.patient_for_code(f"bench-concurrent-{i}", create=False)
                for sess in ctx.store.list_sessions("bench", pid):
                    mixed += sum(1 for t in ctx.store.turns(sess["id"], pid, actor="bench")
                                 if t["role"] == "patient" and t["content"] not in EXPLORE_MESSAGES)
            single = out["turn"]["turn_p95_s"]
            p95 = _pct(all_totals, 95)
            out["concurrency"] = {"sessions": 8, "turns": len(all_totals), "errors": len(errs),
                                  "mixed_messages": mixed, "wall_s": round(wall, 2), "turn_p95_s": p95,
                                  "ratio_to_single_p95": round(p95 / single, 2) if single else None,
                                  "note": "in-process threads sharing one model; requests that arrive together share a batch"}
        ctx.store.close()
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return out


def cmd_bench(args: argparse.Namespace) -> int:
    sections = set(args.only.split(",")) if args.only else None
    result = run_bench(sections)
    print(json.dumps(result, indent=2, default=str))
    return 0


def register(subparsers) -> None:
    p = subparsers.add_parser("bench", help="run the performance benchmarks; prints JSON")
    p.add_argument("--only", help="comma-separated sections: engine,startup,music,screening,mood,reader,senses,"
                                  "retrieval,turn,concurrency")
    p.set_defaults(handler=cmd_bench)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(cmd_bench(argparse.Namespace(only=None)))
