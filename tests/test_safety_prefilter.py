"""The linear-time prefilter for long messages never hides a rule that matches (its safety rests on that).

Each rule is loosened for RE2 (``prefilter.loosen``); the loosened pattern must match wherever the
rule matches under Python's ``re``. Checked on every message of the safety sets and on random text
built from risk words, accents, other scripts and odd characters; then the whole rule layer with the
prefilter forced on gives the same hits as without it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import re2
import yaml

from attune.agent.safety import prefilter, rules
from attune.agent.safety.learned import load_exemplars
from attune.agent.safety.normalize import normalise

ROOT = Path(__file__).resolve().parent.parent


def _messages() -> list[str]:
    out = [t for t, _, _ in load_exemplars()]
    for path in sorted((ROOT / "evals" / "data").glob("safety_blind*.yaml")):
        for case in yaml.safe_load(path.read_text(encoding="utf-8"))["cases"]:
            out += [case["text"], *case.get("conversation", [])]
    return out


def _random_texts(n: int = 300) -> list[str]:
    rng = random.Random(7)
    words = ("i want to kill myself die end it all pills overdose jump bridge cut wrists goodbye forever "
             "tonight cant go on no reason to live hang rope gun knife not suicidal used to years ago "
             "mourir pastillas umbringen morire uccidermi matarme suicidio tabletten nicht mehr leben "
             "héhé naïve über façade ñ ð þ ß œ æ ø å ą ł ż ř ş ğ ı ё ж ш 死 好 ع ש 😀 ⁂ ½ ² ٣ ߁ 𝟙").split()
    return [" ".join(rng.choice(words) for _ in range(rng.randint(3, 40))) for _ in range(n)]


PATTERNS = [r.pattern for r in rules._all_rules()] + [r.pattern for r in rules._tables()[2]] + \
    [p for p in (rules._book().mask_pattern,) if p is not None] + \
    [rules.signal(n) for n in ("safe_statement", "not_safe", "innocent_purpose", "innocence_undone",
                               "history_past", "history_now", "history_back")]


@pytest.fixture(scope="module")
def loosened():
    out = {}
    for p in PATTERNS:
        try:
            out[p.pattern] = re2.compile(prefilter.loosen(p.pattern))
        except Exception:  # noqa: BLE001 - such a rule always runs with re
            out[p.pattern] = None
    return out


def test_nearly_every_rule_can_be_prefiltered(loosened):
    assert sum(v is None for v in loosened.values()) <= 3


@pytest.mark.parametrize("source", ["team sets", "random text"])
def test_a_loosened_rule_matches_wherever_the_rule_matches(loosened, source):
    texts = _messages() if source == "team sets" else _random_texts()
    views = {normalise(t).text for t in texts} | {normalise(t).light for t in texts}
    views |= {rules.mask_figurative(v)[0] for v in list(views)}
    missed = [(p.pattern[:60], v[:80]) for v in views for p in PATTERNS
              if loosened[p.pattern] is not None and p.search(v) and not loosened[p.pattern].search(v)]
    assert not missed


def test_loosening_keeps_what_narrows_out():
    assert prefilter.loosen(r"\bkill(?! time)\w*\b") == r"kill[\pL\pN\pM_]*"
    assert prefilter.loosen(r"(?<!not )die\s+now") == r"die[\s\pZ\x1c-\x1f\x85\x0b]+now"
    assert prefilter.loosen(r"[\w']+ (?:a|b)") == r"[\pL\pN\pM_']+ (?:a|b)"
    with pytest.raises(ValueError):
        prefilter.loosen(r"[^\w]")


def test_the_rules_with_the_prefilter_give_the_same_hits(monkeypatch):
    texts = [normalise(t) for t in _messages()[::7]]
    plain = [rules.match_rules(rules.mask_figurative(n.text)[0], n.light) for n in texts]
    monkeypatch.setattr(rules, "LONG_TEXT", 0)
    monkeypatch.setattr(prefilter, "LONG_TEXT", 0)
    filtered = [rules.match_rules(rules.mask_figurative(n.text)[0], n.light) for n in texts]
    assert filtered == plain


def test_a_crisis_hidden_in_a_megabyte_is_found(guard):
    filler = "I went for a walk by the river and the light was lovely. " * 9000
    assert guard.screen(filler + " I am going to kill myself tonight. " + filler).action == "crisis"
    assert guard.screen(filler + filler).action == "allow"
