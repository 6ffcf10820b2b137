"""How long, how fast: the amounts a person names for the next piece.

"Music for a nap, like 15 minutes" or "around 70 bpm" names an amount, and
a step of "a bit longer" is not what was asked. Numbers with units are a
closed vocabulary, so they are looked up in ``data/reader/amounts.yaml``
(units and number words in our languages, and the words that make an amount
elapsed time rather than a length: "awake for 20 minutes", "a meeting in 15
minutes"), with examples that must and must not read, run as tests. The
reader only asks for amounts in a request or feedback; whether a message is
one stays learned.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Optional

from pydantic import BaseModel, ConfigDict, Field

from attune.common.data import load_yaml

__all__ = ["Amounts", "amounts", "load_amounts"]


@dataclass(frozen=True)
class Amounts:
    seconds: Optional[float] = None  # the piece's length
    bpm: Optional[float] = None  # beats per minute


class _Unit(BaseModel):
    model_config = ConfigDict(extra="forbid")
    factor: Optional[float] = None  # seconds per unit; None for a tempo
    words: list[str] = Field(min_length=1)


class _Spec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    units: dict[str, _Unit]
    numbers: dict[str, float]
    a_after: frozenset[str]
    not_after: frozenset[str]
    examples: dict[str, dict[str, float]]
    near_misses: list[str]


@lru_cache(maxsize=1)
def load_amounts() -> tuple[_Spec, re.Pattern[str]]:
    """The validated data file and the pattern built from it (a malformed file fails here, loudly)."""
    raw = resources.files("attune.agent").joinpath("data/reader/amounts.yaml").read_text("utf-8")
    spec = _Spec.model_validate(load_yaml(raw))
    if set(spec.units) != {"seconds", "minutes", "bpm"}:
        raise ValueError(f"amounts.yaml: units must be seconds, minutes, bpm, not {sorted(spec.units)}")
    words = sorted(spec.numbers, key=len, reverse=True)
    number = r"(?P<num>\d+(?:[.,]\d+)?|" + "|".join(re.escape(w) for w in words) + r")"
    units = "|".join(f"(?P<{name}>" + "|".join(re.escape(w) for w in sorted(u.words, key=len, reverse=True)) + ")"
                     for name, u in spec.units.items())
    pattern = re.compile(rf"(?<![\w.,]){number}\s*-?\s*(?:{units})(?!\w)", re.IGNORECASE)
    return spec, pattern


def amounts(text: str) -> Amounts:
    """The length and tempo named in ``text`` (None where none is named, or where a number is elapsed time)."""
    spec, pattern = load_amounts()
    seconds = bpm = None
    for m in pattern.finditer(text or ""):
        before = re.findall(r"[\w']+", text[:m.start()].lower())[-3:]
        if spec.not_after.intersection(before):
            continue  # "awake for 20 minutes", "a meeting in 15 minutes": time, not the piece
        raw = m.group("num").lower()
        if raw in ("a", "an") and not (before and before[-1] in spec.a_after):
            continue  # "wait a minute", "give me a sec": not a length
        value = float(raw.replace(",", ".")) if raw[0].isdigit() else spec.numbers[raw]
        if m.group("bpm"):
            bpm = bpm if bpm is not None else value
        else:
            unit = "minutes" if m.group("minutes") else "seconds"
            if re.match(r"\s+and\s+a\s+half\b", text[m.end():], re.IGNORECASE):
                value += 0.5  # "a minute and a half"
            seconds = seconds if seconds is not None else value * spec.units[unit].factor
    return Amounts(seconds=seconds, bpm=bpm)
