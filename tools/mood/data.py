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


@lru_cache(maxsize=1)
def load_sentences() -> tuple[Sentence, ...]:
    """All rows of the package data file (read once; small)."""
    raw = resources.files("attune.tools").joinpath("data/mood_sentences.tsv").read_text("utf-8")
    rows = []
    for line in raw.splitlines():
        if not line.strip() or line.startswith("#") or line.startswith("valence\t"):
            continue
        v, a, emo, text = line.split("\t", 3)
        if emo not in EMOTIONS:
            raise ValueError(f"unknown emotion {emo!r} in mood_sentences.tsv")
        rows.append(Sentence(text=text, valence=float(v), arousal=float(a), emotion=emo))
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
