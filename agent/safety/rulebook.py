"""The rule book: phrase rules, figurative masks, signals and word lists read from ``data/safety_rules``.

STYLE.md 15: the phrase knowledge of the input screen is data with a schema; this module only
loads, validates and compiles it (``rules`` applies it). The folder holds one sub-folder per
language (``en``, ``es``, ``fr``, ``de``, ``it``, ``pt``) and ``multi`` for a rule whose one
pattern mixes languages (its name is one reason in a verdict, so it is kept whole), with files by
what they recognise (``en/suicide_thoughts.yaml``, ``en/harm_others.yaml`` ...). A file may hold:

- ``lists``: named word lists; ``{name}`` in any pattern stands for one (names are global);
- ``rules``: a name, a category, a weight, a C-SSRS level, the view it reads (``text``, or
  ``light`` where chat-template tokens survive), flags, patterns (alternatives) and whole messages
  that must fire it and must not (tests/test_safety_rulebook.py runs them through ``match_rules``);
- ``masks``: figurative uses of risk words ("this song kills me"), masked before the rules read;
- ``signals``: patterns the mechanism reads by name (``SIGNALS``): "I'm safe now", a negation
  before a match, a past that is over, a told history with recovery.

``order.yaml`` lists every rule once: the order of the hits, so of the reasons and categories of a
verdict. Masks are one alternation in file order (the first alternative that matches at a place wins).

What it leaves out: matching, negation and past handling (``rules``), the phrase file of the goodbye
issue (``phrases``, read after these) and combining hits into a verdict (``input_guard``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

import yaml
from pydantic import BaseModel, ConfigDict, Field

from attune.common.errors import ConfigError
from attune.common.data import load_yaml

from .phrases import Category, PhraseEntry

__all__ = ["RULES_DIR", "LANGUAGES", "FLAGS", "SIGNALS", "RuleEntry", "SignalEntry", "RuleFile", "RuleBook",
           "load_rulebook"]

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "safety_rules"
LANGUAGES = ("en", "es", "fr", "de", "it", "pt", "ru", "uk", "ar", "hi", "zh", "ja", "tr", "multi")
ORDER_FILE = "order.yaml"
_LIST_REF = re.compile(r"\{([a-z_]+)\}")  # "{pills}"; regex counts such as {0,2} have digits and are left alone

# What the mechanism does with a rule's hit, beyond its category and weight (``rules.match_rules``, ``input_guard``).
Flag = Literal[
    "negatable",  # a negated match ("I'm not suicidal") is kept as weak distress
    "past_demotable",  # a match about a past that is over ("used to", "3 years clean") is weak distress
    "history_demotable",  # an attempt years ago with recovery named now is weak distress
    "third_party_demotable",  # the bare word in fiction, history or statistics is weak distress
    "told_history",  # demoted with the suicide rules when the message is a told history with recovery
    "warning_sign",  # a specific warning sign that, with a nearest crisis exemplar, makes a crisis
    "strong_distress",  # distress (a burden, a goodbye) that adds up to a crisis with other distress
    "height_question",  # a height question: with an innocent purpose and no distress, only a probe
    "height_framing",  # coursework or a story around a height question (kept as the question is)
]
FLAGS: tuple[str, ...] = get_args(Flag)
_NEEDS_NEGATABLE = ("past_demotable", "history_demotable", "third_party_demotable")
# The signals the mechanism reads by name; a file must define each one.
SIGNALS = ("safe_statement", "not_safe", "innocent_purpose", "innocence_undone", "resolved", "negation", "negation_void",
           "past", "present", "third_party", "history_past", "history_now", "history_back")


class RuleEntry(PhraseEntry):
    """A phrase rule: fires a ``rules.Hit`` of this category, weight and C-SSRS level."""

    category: Category
    weight: float = Field(ge=0.0, le=1.0)
    level: int | None = Field(default=None, ge=1, le=6)
    view: Literal["text", "light"] = "text"
    flags: list[Flag] = []


class SignalEntry(PhraseEntry):
    """A pattern the mechanism reads by name.

    ``before_match``: it reads the few characters before a rule's match, which end with a space, so
    its examples are read with a space after them.
    """

    name: Literal[SIGNALS]  # type: ignore[valid-type]
    reads: Literal["text", "before_match"] = "text"


class RuleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    lists: dict[str, str] = {}
    rules: list[RuleEntry] = []
    masks: list[PhraseEntry] = []
    signals: list[SignalEntry] = []


class _OrderFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
    order: list[str] = Field(min_length=1)


@dataclass(frozen=True)
class RuleBook:
    """The validated rule book: rules in order, masks in order, signals by name, lists by name."""

    lists: dict[str, str]
    rules: tuple[RuleEntry, ...]
    masks: tuple[PhraseEntry, ...]
    signals: dict[str, SignalEntry]
    files: dict[str, Path]  # entry name -> the file that defines it
    mask_files: tuple[Path, ...]  # the files whose masks change what the learned layer reads
    compiled: dict[str, re.Pattern[str]]  # rule and signal name -> its pattern, compiled once
    mask_pattern: re.Pattern[str] | None  # all masks as one alternation, in order

    def source(self, patterns: list[str], where: str) -> str:
        """Alternatives joined as ``(?:a)|(?:b)`` (exactly ``a|b``), lists filled in."""
        def fill(match: re.Match[str]) -> str:
            if match.group(1) not in self.lists:
                raise ConfigError(f"{where}: unknown list {{{match.group(1)}}} (lists: {', '.join(sorted(self.lists))})")
            return self.lists[match.group(1)]

        return "|".join(f"(?:{_LIST_REF.sub(fill, p)})" for p in patterns)

    def regex(self, entry: PhraseEntry) -> re.Pattern[str]:
        """The entry's compiled pattern (a mask's own, for its examples)."""
        if entry.name in self.compiled:
            return self.compiled[entry.name]
        return re.compile(self.source(entry.patterns, f"{self.files.get(entry.name, '?')}: {entry.name}"))

    def flagged(self, flag: str) -> frozenset[str]:
        if flag not in FLAGS:
            raise ConfigError(f"unknown rule flag {flag!r} (flags: {', '.join(FLAGS)})")
        return frozenset(r.name for r in self.rules if flag in r.flags)


def _read(path: Path) -> RuleFile:
    try:
        return RuleFile.model_validate(load_yaml(path.read_text(encoding="utf-8")) or {})
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"The safety rule file {path} is invalid: {exc}") from None


def _fail(root: Path, problem: str) -> ConfigError:
    return ConfigError(f"The safety rules in {root} are invalid: {problem}")


@lru_cache(maxsize=4)
def load_rulebook(root: Path = RULES_DIR, reserved: frozenset[str] = frozenset()) -> RuleBook:
    """The validated rule book; bad data is bad configuration and raises ``ConfigError``.

    ``reserved``: rule names defined elsewhere (the phrase file), which no file here may reuse.
    """
    root = Path(root)
    paths = sorted(p for p in root.rglob("*.yaml") if p.name != ORDER_FILE)
    if not paths:
        raise _fail(root, "no rule files")
    lists: dict[str, str] = {}
    rules: dict[str, RuleEntry] = {}
    masks: list[PhraseEntry] = []
    signals: dict[str, SignalEntry] = {}
    files: dict[str, Path] = {}
    mask_files: list[Path] = []
    for path in paths:
        rel = path.relative_to(root)
        if len(rel.parts) != 2 or rel.parts[0] not in LANGUAGES:
            raise _fail(root, f"{rel} is not in a language folder ({', '.join(LANGUAGES)})")
        data = _read(path)
        for name, pattern in data.lists.items():
            if name in lists:
                raise _fail(root, f"{rel} defines the list {name!r} again ({files['{' + name + '}']} has it)")
            lists[name] = pattern
            files["{" + name + "}"] = rel
        for entry in [*data.rules, *data.masks, *data.signals]:
            if entry.name in files or entry.name in reserved:
                raise _fail(root, f"{rel} defines {entry.name!r} again ({files.get(entry.name, 'the phrase file')} has it)")
            files[entry.name] = rel
        for rule in data.rules:
            wrong = [f for f in _NEEDS_NEGATABLE if f in rule.flags and "negatable" not in rule.flags]
            if wrong:
                raise _fail(root, f"{rel}: {rule.name} is {wrong[0]} but not negatable (only a negatable rule is demoted)")
            if len(set(rule.flags)) != len(rule.flags):
                raise _fail(root, f"{rel}: {rule.name} names a flag twice")
            rules[rule.name] = rule
        signals.update((s.name, s) for s in data.signals)
        masks += data.masks
        if data.masks:
            mask_files.append(path)
    order = _read_order(root)
    unknown = [n for n in order if n not in rules]
    if unknown:
        raise _fail(root, f"{ORDER_FILE} names rules no file defines: {', '.join(unknown)}")
    if len(order) != len(set(order)):
        raise _fail(root, f"{ORDER_FILE} names a rule twice")
    unordered = [n for n in rules if n not in set(order)]
    if unordered:
        raise _fail(root, f"{ORDER_FILE} leaves out {', '.join(unordered)}")
    missing = [s for s in SIGNALS if s not in signals]
    if missing:
        raise _fail(root, f"no file defines the signal(s) {', '.join(missing)}, which the screen reads")
    book = RuleBook(lists, tuple(rules[n] for n in order), tuple(masks), signals, files, tuple(mask_files), {}, None)
    unused = [f for f in FLAGS if not book.flagged(f)]
    if unused:
        raise _fail(root, f"no rule carries the flag(s) {', '.join(unused)}, which the screen reads")
    try:  # every pattern compiles and every list exists; compiled once here, for the process
        for entry in [*book.rules, *book.signals.values()]:
            book.compiled[entry.name] = re.compile(book.source(entry.patterns, f"{files[entry.name]}: {entry.name}"))
        joined = "|".join(f"(?:{book.source(m.patterns, f'{files[m.name]}: {m.name}')})" for m in book.masks)
        mask_pattern = re.compile(joined) if book.masks else None
    except re.error as exc:
        raise _fail(root, f"a pattern does not compile: {exc}") from None
    return RuleBook(book.lists, book.rules, book.masks, book.signals, files, book.mask_files, book.compiled, mask_pattern)


def _read_order(root: Path) -> list[str]:
    path = root / ORDER_FILE
    try:
        return _OrderFile.model_validate(load_yaml(path.read_text(encoding="utf-8")) or {}).order
    except (OSError, yaml.YAMLError, ValueError) as exc:
        raise ConfigError(f"The safety rule order {path} is invalid: {exc}") from None
