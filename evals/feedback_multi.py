"""Score a set of feedback messages that ask several changes at once, at the reader.

    python -m attune.evals.feedback_multi evals/data/understanding_blind11/feedback_multi.yaml [--json out.json]

A case is honoured when the message is read as asking for a piece (surely) and every labelled change
is read in its direction; it is *reversed* when any labelled change is read the other way, which a
listener hears as being ignored. "energy" is also met by tempo or loudness moving its way, a tempo
by a named BPM, a length by a named length. A blind set is scored once before a change and once
after, with the code frozen; its misses are not read to fix wordings.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

import yaml


def _sign(x: float) -> int:
    return (x > 0) - (x < 0)


def _read_direction(reading, dimension: str, wanted: int) -> int:
    got = _sign(reading.changes.get(dimension, 0))
    if got:
        return got
    if dimension == "tempo" and reading.bpm:
        return wanted
    if dimension == "length" and reading.seconds:
        return wanted
    if dimension == "energy":
        others = {_sign(reading.changes.get(k, 0)) for k in ("tempo", "loudness")} - {0}
        return others.pop() if len(others) == 1 else 0
    return 0


def score(path: Path) -> dict:
    from attune.agent.reader import read

    cases = yaml.safe_load(path.read_text(encoding="utf-8"))
    asked, met = Counter(), Counter()
    totals = Counter()
    for case in cases:
        reading = read(case["text"])
        ok = reading.wants_music and reading.sure
        reversed_ = False
        for dimension, wanted in (case.get("changes") or {}).items():
            got = _read_direction(reading, dimension, wanted)
            asked[dimension] += 1
            met[dimension] += got == wanted
            ok = ok and got == wanted
            reversed_ = reversed_ or got == -wanted
        for field in ("use", "drop"):
            for name in case.get(field) or []:
                hit = any(name in n for n in getattr(reading, field))
                asked[field] += 1
                met[field] += hit
                ok = ok and hit
        group = "en" if case.get("lang") == "en" else "other"
        totals["cases"] += 1
        totals["honoured"] += ok
        totals["reversed"] += reversed_
        totals[group] += 1
        totals[f"{group}_honoured"] += ok
    return {
        "set": str(path), "cases": totals["cases"],
        "honoured": round(totals["honoured"] / max(1, totals["cases"]), 3), "reversed": totals["reversed"],
        "en": f"{totals['en_honoured']}/{totals['en']}", "other": f"{totals['other_honoured']}/{totals['other']}",
        "per_dimension": {d: f"{met[d]}/{asked[d]}" for d in asked},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args(argv)
    result = score(args.path)
    text = json.dumps(result, indent=1)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
