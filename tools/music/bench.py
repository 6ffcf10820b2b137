"""Time compose+render of a 60-second piece against the ``fluidsynth`` command line.

``bench()`` returns seconds for our path (plan, compose, MIDI, bounded render,
WAV) and for ``fluidsynth -ni -F out.wav -r 44100 sf2 mid`` on the same MIDI,
and their ratio. Imports are warmed first so only the work is timed. Goals:
at most 1 s in total and at most 1.5 times the reference.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from pathlib import Path

__all__ = ["bench"]


def bench(seconds: float = 60.0, soundfont: str | None = None) -> dict:
    import music21  # noqa: F401  (warm import, not timed)

    from .composer import compose
    from .output import write_piece
    from .plan import plan_music
    from .render import resolve_soundfont

    sf2 = str(resolve_soundfont(soundfont))
    with tempfile.TemporaryDirectory(prefix="attune-bench-") as d:
        plan_music((0, 0), (0.2, -0.4), 10)  # warm the code paths
        t0 = time.perf_counter()
        plan = plan_music((-0.3, 0.5), (0.4, -0.5), seconds, seed=1)
        score = compose(plan)
        t1 = time.perf_counter()
        files = write_piece(plan, midi=Path(d) / "a.mid", wav=Path(d) / "a.wav", soundfont=sf2, score=score)
        t2 = time.perf_counter()
        ref = None
        exe = shutil.which("fluidsynth")
        if exe:
            r0 = time.perf_counter()
            subprocess.run([exe, "-ni", "-F", str(Path(d) / "ref.wav"), "-r", "44100", sf2, files.midi],
                           check=True, capture_output=True, timeout=60)
            ref = time.perf_counter() - r0
    total = t2 - t0
    return {
        "piece_s": plan.duration_s,
        "compose_s": round(t1 - t0, 3),
        "write_and_render_s": round(t2 - t1, 3),
        "total_s": round(total, 3),
        "fluidsynth_cli_s": round(ref, 3) if ref else None,
        "ratio": round(total / ref, 2) if ref else None,
        "goal_met": bool(total <= 1.0 and (ref is None or total <= 1.5 * ref)),
    }


if __name__ == "__main__":  # pragma: no cover
    import json

    print(json.dumps(bench(), indent=2))
