"""Phrase knowledge kept as data: masks and phrase rules read from ``data/safety_phrases.yaml``.

STYLE.md 15: the phrases live in a data file with a schema, each entry with examples
that must and must not match (tests/test_safety_phrases.py runs them); this module only
loads, validates and compiles them. ``rules`` applies the masks next to its figurative
ones and runs the rules next to its own table.

A mask is a harmless use of a risk word, such as a goodbye bounded by a time ("my last
message for today", "für heute Schluss machen"): it is masked out before the rules and the
learned layer read the message, as figurative phrases are, while the rest is still read.
A rule is a phrase rule like those of the rule book (``rulebook``, ``data/safety_rules``): a name,
a category, a weight and a C-SSRS level.

Patterns read the ``text`` view of ``normalise`` (lower case, no accents, no apostrophes,
punctuation as spaces). ``{name}`` in a pattern stands for the entry of that name under
``pieces``.

What it leaves out: negation and past-tense handling (``rules.match_rules``) and
combining hits into a verdict (``input_guard``).
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from pydantic import BaseModel, ConfigDict, Field

from attune.common.errors import ConfigError
from attune.common.data import load_yaml

from .models import BLOCK_CATEGORIES, CRISIS_CATEGORIES

__all__ = ["PHRASES_PATH", "PhraseEntry", "PhraseRule", "PhraseFile", "load_phrases", "compiled_masks", "compiled_rules",
           "compiled_corrections"]

PHRASES_PATH = Path(__file__).resolve().parent.parent / "data" / "safety_phrases.yaml"
_PIECE = re.compile(r"\{([a-z_]+)\}")  # "{time_box}"; regex counts such as {0,2} have digits and are left alone
Category = Literal[CRISIS_CATEGORIES + BLOCK_CATEGORIES + ("distress", "means_probe")]  # type: ignore[valid-type]


class PhraseEntry(BaseModel):
    """One mask: patterns (alternatives) with whole messages that must and must not match."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str
    why: str
    patterns: list[str] = Field(min_length=1)
    match: list[str] = Field(min_length=1)
    no_match: list[str] = Field(min_length=1)


class PhraseRule(PhraseEntry):
    """A phrase rule: fires a ``rules.Hit`` of this category, weight and C-SSRS level."""

    category: Category
    weight: float = Field(ge=0.0, le=1.0)
    level: int | None = Field(default=None, ge=1, le=6)
    negatable: bool = False  # a negated match ("this isn't goodbye forever") is weak distress (the rule book's negatable flag)


class PhraseFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    pieces: dict[str, str] = {}
    masks: list[PhraseEntry] = []
    rules: list[PhraseRule] = []
    corrections: list[PhraseEntry] = []  # in crisis mode: "I only meant I'm done chatting" (crisis.says_safe)

    def regex(self, entry: PhraseEntry) -> re.Pattern[str]:
        """The entry's patterns as one compiled alternation, pieces filled in."""
        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in self.pieces:
                raise ValueError(f"{entry.name}: unknown piece {{{match.group(1)}}}")
            return self.pieces[match.group(1)]

        return re.compile("|".join(f"(?:{_PIECE.sub(fill, p)})" for p in entry.patterns))


@lru_cache(maxsize=4)
def load_phrases(path: Path = PHRASES_PATH) -> PhraseFile:
    """The validated phrase file; a bad file is bad configuration and raises."""
    try:
        data = PhraseFile.model_validate(load_yaml(Path(path).read_text(encoding="utf-8")))
        for entry in [*data.masks, *data.rules, *data.corrections]:
            data.regex(entry)  # every pattern compiles and every piece exists
    except (OSError, yaml.YAMLError, ValueError, re.error) as exc:
        raise ConfigError(f"The safety phrase file {path} is invalid: {exc}") from None
    names = [e.name for e in [*data.masks, *data.rules, *data.corrections]]
    if len(names) != len(set(names)):
        raise ConfigError(f"The safety phrase file {path} names an entry twice.")
    return data


def _joined(data: PhraseFile, entries: list[PhraseEntry]) -> re.Pattern[str] | None:
    """Entries as one alternation (None when there are none)."""
    if not entries:
        return None
    return re.compile("|".join(f"(?:{data.regex(e).pattern})" for e in entries))


@lru_cache(maxsize=4)
def compiled_masks(path: Path = PHRASES_PATH) -> re.Pattern[str] | None:
    """All masks as one pattern (None when the file has none)."""
    data = load_phrases(path)
    return _joined(data, data.masks)


@lru_cache(maxsize=4)
def compiled_corrections(path: Path = PHRASES_PATH) -> re.Pattern[str] | None:
    """All corrections as one pattern (None when the file has none)."""
    data = load_phrases(path)
    return _joined(data, data.corrections)


@lru_cache(maxsize=4)
def compiled_rules(path: Path = PHRASES_PATH) -> tuple[tuple[PhraseRule, re.Pattern[str]], ...]:
    """Each rule with its compiled pattern."""
    data = load_phrases(path)
    return tuple((r, data.regex(r)) for r in data.rules)
