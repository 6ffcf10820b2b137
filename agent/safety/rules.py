"""Phrase rules: the explicit, auditable layer of the input screen (the mechanism; the knowledge is data).

Each rule has a name (logged as a reason), a category, a weight in [0, 1] and for suicide rules
the C-SSRS level it shows. Rules read the ``text`` view of ``normalise`` (lower case, no accents,
no apostrophes, punctuation as spaces), except those marked ``view: light``, which read the
``light`` view where chat template tokens survive.

The rules, masks, signals and word lists live in ``data/safety_rules`` (``rulebook`` loads and
compiles them once, on first use); the masks and rules of ``data/safety_phrases.yaml``
(``phrases``) come after them. Figurative phrases ("this song kills me", "dying to hear it") are
masked out before the risk rules run, so they cannot fire a rule, while the rest of the message is
still read.

What a hit becomes is said by the rule's flags: a negated match ("I'm not suicidal") of a
``negatable`` rule is kept as weak distress, not dropped, so that negation plus other distress
still adds up; ``past_demotable``, ``history_demotable`` and ``third_party_demotable`` do the same
for a past that is over, an attempt years ago with recovery now, and the bare word in a story.

Categories beyond the public ones: ``distress`` (loss, hopelessness, burden, goodbyes) is a weak
signal that only raises risk in combination, and ``means_probe`` a question that is harmless alone.

What it leaves out: combining hits into a verdict (``input_guard``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from .phrases import compiled_masks, compiled_rules
from .prefilter import LONG_TEXT, Prefilter, search
from .rulebook import RuleBook, load_rulebook

__all__ = ["Rule", "Hit", "RULES", "LIGHT_RULES", "FIGURATIVE", "SAFE_STATEMENT", "NOT_SAFE", "INNOCENT_PURPOSE",
           "INNOCENCE_UNDONE", "match_rules", "mask_figurative", "history_recovered", "signal", "flagged", "word_list",
           "mask_files"]


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    category: str
    weight: float
    pattern: re.Pattern[str]
    level: int | None = None  # C-SSRS item (1-6) for suicide rules
    flags: frozenset[str] = frozenset()  # rulebook.FLAGS

    @property
    def negatable(self) -> bool:
        return "negatable" in self.flags


@dataclass(frozen=True, slots=True)
class Hit:
    rule: str
    category: str
    weight: float
    level: int | None = None


@lru_cache(maxsize=1)
def _book() -> RuleBook:
    """The rule book (read and compiled on first use; no name may repeat one of the phrase file)."""
    return load_rulebook(reserved=frozenset(r.name for r, _ in compiled_rules()))


@lru_cache(maxsize=1)
def _tables() -> tuple[tuple[Rule, ...], tuple[Rule, ...], tuple[Rule, ...]]:
    """(rule-book text-view rules, the phrase file's rules, light-view rules), each in its order."""
    book = _book()
    made = [(r.view, Rule(r.name, r.category, r.weight, book.compiled[r.name], r.level, frozenset(r.flags)))
            for r in book.rules]
    phrase_rules = tuple(Rule(r.name, r.category, r.weight, pattern, r.level, frozenset({"negatable"} if r.negatable else ()))
                         for r, pattern in compiled_rules())
    return (tuple(rule for view, rule in made if view == "text"), phrase_rules,
            tuple(rule for view, rule in made if view == "light"))


@lru_cache(maxsize=1)
def _all_rules() -> tuple[Rule, ...]:
    """The text-view rules of the rule book, then the rules of the phrase file."""
    return _tables()[0] + _tables()[1]


def signal(name: str) -> re.Pattern[str]:
    """A signal pattern of the rule book by name (``rulebook.SIGNALS``)."""
    return _book().compiled[name]


@lru_cache(maxsize=None)
def flagged(flag: str) -> frozenset[str]:
    """Names of the rules carrying ``flag`` (``rulebook.FLAGS``; an unknown flag raises)."""
    return _book().flagged(flag)


def word_list(name: str) -> str:
    """A word list of the rule book as a regex group, such as ``pills``."""
    return _book().lists[name]


def mask_files() -> tuple:
    """The data files whose masks change what the screen reads (part of the learned layer's cache key)."""
    return _book().mask_files


_LAZY = {"RULES": lambda: _tables()[0], "LIGHT_RULES": lambda: _tables()[2],
         "FIGURATIVE": lambda: _book().mask_pattern, "SAFE_STATEMENT": lambda: signal("safe_statement"),
         "NOT_SAFE": lambda: signal("not_safe"), "INNOCENT_PURPOSE": lambda: signal("innocent_purpose"),
         "INNOCENCE_UNDONE": lambda: signal("innocence_undone"), "PILLS": lambda: word_list("pills")}


def __getattr__(name: str):
    """The tables of the rule book under their former module names (loaded on first use)."""
    if name in _LAZY:
        return _LAZY[name]()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def mask_figurative(text: str) -> tuple[str, int]:
    """Replace figurative risk-looking phrases by a marker; returns (text, count).

    The masks of the phrase file (``phrases``: goodbyes bounded by a time, such as "my last
    message for today") are applied after those of the rule book.
    """
    count = 0
    masks = [m for m in (_book().mask_pattern, compiled_masks()) if m is not None]
    if len(text) >= LONG_TEXT:  # a long text: only the masks that can match it (one linear pass)
        maybe = _mask_prefilter().candidates(text)
        masks = [m for k, m in enumerate(masks) if k in maybe]
    for mask in masks:
        text, more = mask.subn(" _fig_ ", text)
        count += more
    return text, count


@lru_cache(maxsize=1)
def _mask_prefilter() -> Prefilter:
    return Prefilter([m.pattern for m in (_book().mask_pattern, compiled_masks()) if m is not None])


@lru_cache(maxsize=1)
def _rule_prefilter() -> Prefilter:
    return Prefilter([r.pattern.pattern for r in _all_rules()])


def history_recovered(text: str) -> bool:
    """A past of suicidal thoughts told with recovery now, and nothing saying it is back."""
    return (bool(search(signal("history_past"), text)) and bool(search(signal("history_now"), text))
            and not search(signal("history_back"), text))


def _negated(text: str, match: re.Match[str]) -> bool:
    window = text[max(0, match.start() - 40):match.start()]
    neg = signal("negation").search(window)
    # "no choice but to", "nothing left but to": the negation does not cancel the act
    return bool(neg) and not signal("negation_void").search(window[neg.start():])


def _past(text: str, match: re.Match[str]) -> bool:
    window = text[max(0, match.start() - 60):match.end() + 60]
    return bool(signal("past").search(window)) and not signal("present").search(window)


def _demoted(r: Rule, text: str, matches: list[re.Match[str]]) -> Hit | None:
    """The weak distress hit a negatable rule's matches become, or None when they stand."""
    if all(_negated(text, m) for m in matches):
        return Hit(r.name + ".negated", "distress", 0.5, None)
    if "past_demotable" in r.flags and all(_past(text, m) for m in matches):
        return Hit(r.name + ".past", "distress", 0.3, None)
    if "history_demotable" in r.flags and signal("resolved").search(text) and all(_past(text, m) for m in matches):
        return Hit(r.name + ".resolved_history", "distress", 0.3, None)
    if "third_party_demotable" in r.flags and signal("third_party").search(text):
        return Hit(r.name + ".third_party", "distress", 0.2, None)
    return None


def match_rules(text: str, light: str = "") -> list[Hit]:
    """All rules that fire on ``text`` (figurative phrases already masked) and ``light``, in rule order."""
    hits = []
    maybe = _rule_prefilter().candidates(text) if len(text) >= LONG_TEXT else None
    for k, r in enumerate(_all_rules()):
        if maybe is not None and k not in maybe:
            continue  # cannot match: its loosened form found nothing in one pass (``prefilter``)
        if "negatable" in r.flags:
            matches = list(r.pattern.finditer(text))
            if matches:
                hits.append(_demoted(r, text, matches) or Hit(r.name, r.category, r.weight, r.level))
        elif r.pattern.search(text):
            hits.append(Hit(r.name, r.category, r.weight, r.level))
    told = flagged("told_history")
    if any(h.category == "suicide_self_harm" or h.rule in told for h in hits) and history_recovered(text):
        hits = [Hit(h.rule + ".resolved_history", "distress", 0.3, None)
                if h.category == "suicide_self_harm" or h.rule in told else h for h in hits]
    if light:
        hits.extend(Hit(r.name, r.category, r.weight, r.level) for r in _tables()[2] if search(r.pattern, light))
    return hits
