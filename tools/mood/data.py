"""The labelled sentence set that trains the text head, and its fixed split.

`tools/data/mood_sentences.tsv` holds first-person sentences written for
Attune, each with valence and arousal in [-1, 1] and one emotion label. The
held-out split is fixed by the text itself (CRC-32 of the stripped sentence,
modulo 4 == 0, about 25 %), so it never changes when rows are added elsewhere
and needs no random seed.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from importlib import resources

from pydantic import BaseModel, Field

from .model import EMOTIONS

__all__ = ["Sentence", "load_sentences", "split", "quadrant", "QUADRANTS"]

QUADRANTS = ("pleasant-activated", "pleasant-calm", "unpleasant-activated", "unpleasant-calm", "neutral")


class Sentence(BaseModel):
    text: str
    valence: float = Field(ge=-1, le=1)
    arousal: float = Field(ge=-1, le=1)
    emotion: str

    @property
    def held_out(self) -> bool:
        return zlib.crc32(self.text.strip().encode("utf-8")) % 4 == 0


#: the labelled files, all in the same four-column format: feeling sentences first, then
#: situational messages (a court date, a dog that died) written blind of the test sets
FILES = ("mood_sentences.tsv", "mood_situations_a.tsv", "mood_situations_b.tsv", "mood_more_a.tsv", "mood_more_b.tsv",
         "mood_situations_c.tsv", "mood_situations_d.tsv", "mood_situations_e.tsv", "mood_situations_f.tsv",
         "mood_situations_g.tsv", "mood_situations_h.tsv", "mood_situations_i.tsv")


@lru_cache(maxsize=1)
def load_sentences() -> tuple[Sentence, ...]:
    """All rows of the package data files (read once)."""
    rows, seen = [], set()
    for name in FILES:
        raw = resources.files("attune.tools").joinpath(f"data/{name}").read_text("utf-8")
        for n, line in enumerate(raw.splitlines(), 1):
            if not line.strip() or line.startswith("#") or line.startswith("valence\t"):
                continue
            v, a, emo, text = line.split("\t", 3)
            if emo not in EMOTIONS:
                raise ValueError(f"unknown emotion {emo!r} in {name} line {n}")
            if text.strip().lower() in seen:
                continue  # two writers wrote the same short message: the first label stands
            seen.add(text.strip().lower())
            rows.append(Sentence(text=text.strip(), valence=float(v), arousal=float(a), emotion=emo))
    return tuple(rows)


def split() -> tuple[list[Sentence], list[Sentence]]:
    """(train, held_out) lists, fixed by text hash."""
    rows = load_sentences()
    return [r for r in rows if not r.held_out], [r for r in rows if r.held_out]


def quadrant(valence: float, arousal: float, dead_zone: float = 0.15) -> str:
    """Name of the circumplex quadrant; inside the dead zone on both axes it is "neutral"."""
    if abs(valence) < dead_zone and abs(arousal) < dead_zone:
        return "neutral"
    return ("pleasant" if valence >= 0 else "unpleasant") + "-" + ("activated" if arousal >= 0 else "calm")
