"""The phrase file of the input screen: every entry's examples, and the schema that guards it.

Each mask and rule in agent/data/safety_phrases.yaml lists whole messages that must and
must not match; this file runs them on the text the screen reads (``normalise``, and for
rules the masks applied first, as in production).
"""

from __future__ import annotations

import pytest

from attune.common.errors import ConfigError
from attune.agent.safety.normalize import normalise
from attune.agent.safety.phrases import load_phrases
from attune.agent.safety.rules import mask_figurative, match_rules

PHRASES = load_phrases()
MASK_ROWS = [(m.name, text, want) for m in PHRASES.masks for want, texts in ((True, m.match), (False, m.no_match))
             for text in texts]
RULE_ROWS = [(r.name, text, want) for r in PHRASES.rules for want, texts in ((True, r.match), (False, r.no_match))
             for text in texts]


CORRECTION_ROWS = [(c.name, text, want) for c in PHRASES.corrections
                   for want, texts in ((True, c.match), (False, c.no_match)) for text in texts]


def _id(row: tuple[str, str, bool]) -> str:
    name, text, want = row
    return f"{name}-{'match' if want else 'no-match'}-{text[:32]}"


@pytest.mark.parametrize("name, text, want", MASK_ROWS, ids=[_id(r) for r in MASK_ROWS])
def test_mask_examples(name: str, text: str, want: bool) -> None:
    entry = next(m for m in PHRASES.masks if m.name == name)
    assert bool(PHRASES.regex(entry).search(normalise(text).text)) is want


@pytest.mark.parametrize("name, text, want", RULE_ROWS, ids=[_id(r) for r in RULE_ROWS])
def test_rule_examples(name: str, text: str, want: bool) -> None:
    entry = next(r for r in PHRASES.rules if r.name == name)
    masked, _ = mask_figurative(normalise(text).text)
    assert bool(PHRASES.regex(entry).search(masked)) is want


@pytest.mark.parametrize("name, text, want", CORRECTION_ROWS, ids=[_id(r) for r in CORRECTION_ROWS])
def test_correction_examples(name: str, text: str, want: bool) -> None:
    entry = next(c for c in PHRASES.corrections if c.name == name)
    assert bool(PHRASES.regex(entry).search(normalise(text).text)) is want


def test_rules_of_the_file_fire_through_match_rules() -> None:
    masked, _ = mask_figurative(normalise("adiós para siempre").text)
    assert "ssi.farewell_forever" in {h.rule for h in match_rules(masked)}


def test_a_negated_farewell_is_weak_distress() -> None:
    masked, _ = mask_figurative(normalise("this isn't bye forever, just for tonight").text)
    hits = {h.rule: h.category for h in match_rules(masked)}
    assert hits.get("ssi.farewell_forever.negated") == "distress"


@pytest.mark.parametrize("text, problem", [
    pytest.param("masks: []\nextra: 1\n", "unknown-top-key", id="unknown-top-key"),
    pytest.param("masks:\n  - {name: a, why: b, patterns: ['x'], match: ['x'], no_match: ['y'], colour: red}\n",
                 "unknown-entry-key", id="unknown-entry-key"),
    pytest.param("masks:\n  - {name: a, why: b, patterns: ['{nowhere}'], match: ['x'], no_match: ['y']}\n",
                 "unknown-piece", id="unknown-piece"),
    pytest.param("masks:\n  - {name: a, why: b, patterns: ['(x'], match: ['x'], no_match: ['y']}\n",
                 "bad-regex", id="bad-regex"),
    pytest.param("masks:\n  - {name: a, why: b, patterns: ['x'], match: [], no_match: ['y']}\n",
                 "no-examples", id="no-examples"),
    pytest.param("rules:\n  - {name: a, why: b, category: sadness, weight: 0.5, patterns: ['x'], match: ['x'], no_match: ['y']}\n",
                 "unknown-category", id="unknown-category"),
    pytest.param("masks:\n  - {name: a, why: b, patterns: ['x'], match: ['x'], no_match: ['y']}\n"
                 "  - {name: a, why: b, patterns: ['z'], match: ['z'], no_match: ['y']}\n", "twice", id="name-twice"),
])
def test_a_bad_phrase_file_raises(tmp_path, text: str, problem: str) -> None:
    path = tmp_path / f"{problem}.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError):
        load_phrases(path)
