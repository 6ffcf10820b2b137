"""Text mood inference speed: `bench() -> dict` for `attune bench`.

Measures the first call (embedding model load + head fit) separately, then
p50/p95 milliseconds per message over a fixed set of varied messages. The
goal is p95 <= 20 ms per message on a laptop CPU.
"""

from __future__ import annotations

import time

__all__ = ["bench", "MESSAGES", "GOAL_P95_MS"]

GOAL_P95_MS = 20.0
MESSAGES = [
    "I feel a bit tired but hopeful about tomorrow.",
    "not happy at all",
    "I'm so anxious my hands are shaking!!",
    "Had a lovely walk, feeling calm.",
    "",
    "ok",
    "Although the scan went fine, I can't stop worrying about the next one.",
    "My daughter visited and I feel so loved 😊",
    "I'm furious, they lost my file again.",
    "Honestly I don't know how I feel today, it's been a long week of appointments and waiting rooms "
    "and phone calls that go nowhere, but my sister came by and we laughed a little.",
]


def bench(rounds: int = 20) -> dict:
    """{"first_call_s", "p50_ms", "p95_ms", "max_ms", "messages", "goal_p95_ms", "ok"}."""
    from .head import get_head
    from .text import infer_text

    t0 = time.perf_counter()
    get_head()
    infer_text(MESSAGES[0])
    first = time.perf_counter() - t0
    times = []
    for _ in range(rounds):
        for m in MESSAGES:
            t = time.perf_counter()
            infer_text(m)
            times.append((time.perf_counter() - t) * 1000)
    times.sort()

    def q(p: float) -> float:
        return round(times[min(len(times) - 1, int(p * len(times)))], 2)

    return {
        "name": "mood.text",
        "first_call_s": round(first, 2),
        "p50_ms": q(0.50),
        "p95_ms": q(0.95),
        "max_ms": round(times[-1], 2),
        "messages": len(times),
        "goal_p95_ms": GOAL_P95_MS,
        "ok": q(0.95) <= GOAL_P95_MS,
    }


if __name__ == "__main__":
    import json

    print(json.dumps(bench()))
