"""Screening speed over the labelled sets: ``bench() -> dict`` (milliseconds)."""

from __future__ import annotations

import statistics
import time

__all__ = ["bench"]


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _forget_recent(guard) -> None:
    """Drop what the risk layer and the embedder remember of recent messages (a cold screen)."""
    from attune.knowledge import embedding

    with embedding._recent_lock:
        embedding._recent.clear()
    if guard._risk is not None:
        guard._risk._cache.clear()


def bench(long_message_bytes: int = 1_000_000) -> dict:
    """p50/p95 ms per message in a session (earlier turns screened as they came), the same cold,
    the learned layer's start-up (reported apart), and one long message."""
    from .evaluate import load_eval_cases
    from .input_guard import InputGuard, _analyse, _joined_hits

    guard = InputGuard()
    start = time.perf_counter()
    guard.warm_up()
    load_s = time.perf_counter() - start
    cases = load_eval_cases()
    _analyse.cache_clear()  # time the full path, not cached analyses
    _joined_hits.cache_clear()
    timings, cold = [], []
    for case in cases:
        # in a session the earlier messages were screened when they arrived (their predictions are cached)
        for i in range(len(case.conversation)):
            guard.screen(case.conversation[i], case.conversation[:i])
        t0 = time.perf_counter()
        guard.screen(case.message, case.conversation)
        timings.append((time.perf_counter() - t0) * 1000)
        _analyse.cache_clear()
        _joined_hits.cache_clear()
        guard._learned.clear_cache()
        _forget_recent(guard)
        t0 = time.perf_counter()  # cold: nothing of the conversation seen before (one-shot `attune screen`)
        guard.screen(case.message, case.conversation)
        cold.append((time.perf_counter() - t0) * 1000)
        _analyse.cache_clear()
        _joined_hits.cache_clear()
        guard._learned.clear_cache()
    filler = "I listened to some music today and it was nice. "
    long_text = (filler * (long_message_bytes // len(filler)))[:long_message_bytes // 2] + " I want to end my life. " + filler * 10
    long_text = (long_text + filler * (long_message_bytes // len(filler)))[:long_message_bytes]
    t0 = time.perf_counter()
    long_result = guard.screen(long_text)  # the first long message also builds the RE2 prefilter
    first_long_ms = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    long_result = guard.screen(long_text[1:] + ".")  # another megabyte (not a cached analysis)
    long_ms = (time.perf_counter() - t0) * 1000
    return {
        "messages": len(timings),
        "screen_p50_ms": round(statistics.median(timings), 2),
        "screen_p95_ms": round(_pct(timings, 0.95), 2),
        "screen_max_ms": round(max(timings), 2),
        "cold_p50_ms": round(statistics.median(cold), 2),
        "cold_p95_ms": round(_pct(cold, 0.95), 2),
        "learned_layer_fit_s": round(load_s, 2),
        "long_message_bytes": len(long_text.encode()),
        "long_message_ms": round(long_ms, 1),
        "long_message_first_ms": round(first_long_ms, 1),
        "long_message_action": long_result.action,
        "goal_p95_ms": 10.0,
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench(), indent=2))
