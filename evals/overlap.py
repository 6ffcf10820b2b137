"""Which cases of an evaluation set share wording with training data (a set that does is not blind).

    python -m attune.evals.overlap evals/data/safety_blind8.yaml [--n 6]

Lists the cases whose text equals a training line or shares a run of ``n``
words with one (lower case, punctuation dropped), over every JSONL and YAML
training file under ``agent/data``. Run it on a new blind set before its
first score; the cases it lists are dropped from that score, decided before
scoring, never after.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _norm(text: str) -> list[str]:
    return re.sub(r"[^\w ]", " ", text.lower()).split()


def _runs(words: list[str], n: int) -> set[str]:
    return {" ".join(words[i:i + n]) for i in range(max(len(words) - n + 1, 0))} or {" ".join(words)}


def _training_texts() -> list[str]:
    texts = []
    paths = [p for folder in (ROOT / "agent" / "data", ROOT / "tools" / "data", ROOT / "knowledge" / "data")
             for p in sorted(folder.rglob("*"))]
    for path in paths:
        if path.suffix == ".jsonl":
            texts += [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip()]
        elif path.suffix == ".tsv":  # valence, arousal, emotion, text
            texts += [line.split("\t", 3)[-1] for line in path.read_text("utf-8").splitlines()
                      if line.count("\t") >= 3 and not line.startswith("#")]
        elif path.suffix in (".yaml", ".yml"):
            texts += [s for s in _strings(yaml.safe_load(path.read_text("utf-8")))]
    return texts


def _strings(node) -> list[str]:
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        return [s for v in node.values() for s in _strings(v)]
    if isinstance(node, list):
        return [s for v in node for s in _strings(v)]
    return []


def overlapping(cases: list[dict], n: int = 6) -> dict[str, str]:
    """case id -> the shared words, for every case whose text overlaps the training data."""
    seen: set[str] = set()
    for text in _training_texts():
        seen |= _runs(_norm(text), n)
    out = {}
    for case in cases:
        shared = [r for r in _runs(_norm(case["text"]), n) if r in seen]
        if shared:
            out[case["id"]] = shared[0]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("path", type=Path)
    parser.add_argument("--n", type=int, default=6, help="words in a shared run (default 6)")
    args = parser.parse_args(argv)
    data = yaml.safe_load(args.path.read_text("utf-8"))
    cases = data["cases"] if isinstance(data, dict) else data
    found = overlapping(cases, args.n)
    for cid, words in found.items():
        print(f"{cid}: \"{words}\"")
    print(json.dumps({"set": str(args.path), "cases": len(cases), "overlapping": len(found)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
