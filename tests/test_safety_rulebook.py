"""The rule book of the input screen: every entry's examples, and the schema and checks that guard it.

Each rule in agent/data/safety_rules lists whole messages that must fire it and must not; they are
run through ``match_rules`` on the text the screen reads (``normalise``, masks applied), so
negation, a past that is over and a told history count as they do in production. Masks and
signals are run on their own pattern (signals on the masked text, as the screen reads them).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from attune.common.errors import ConfigError
from attune.agent.safety.normalize import normalise
from attune.agent.safety.rulebook import FLAGS, LANGUAGES, RULES_DIR, SIGNALS, load_rulebook
from attune.agent.safety.rules import mask_figurative, match_rules

BOOK = load_rulebook()


def _rows(entries) -> list[tuple[str, str, bool]]:
    return [(e.name, text, want) for e in entries for want, texts in ((True, e.match), (False, e.no_match)) for text in texts]


RULE_ROWS = _rows(BOOK.rules)
MASK_ROWS = _rows(BOOK.masks)
SIGNAL_ROWS = _rows(BOOK.signals.values())


def _id(row: tuple[str, str, bool]) -> str:
    name, text, want = row
    return f"{name}-{'match' if want else 'no-match'}-{text[:32]}"


@pytest.mark.parametrize("name, text, want", RULE_ROWS, ids=[_id(r) for r in RULE_ROWS])
def test_rule_examples(name: str, text: str, want: bool) -> None:
    norm = normalise(text)
    masked, _ = mask_figurative(norm.text)
    assert (name in {h.rule for h in match_rules(masked, norm.light)}) is want


@pytest.mark.parametrize("name, text, want", MASK_ROWS, ids=[_id(r) for r in MASK_ROWS])
def test_mask_examples(name: str, text: str, want: bool) -> None:
    entry = next(m for m in BOOK.masks if m.name == name)
    assert bool(BOOK.regex(entry).search(normalise(text).text)) is want


@pytest.mark.parametrize("name, text, want", SIGNAL_ROWS, ids=[_id(r) for r in SIGNAL_ROWS])
def test_signal_examples(name: str, text: str, want: bool) -> None:
    entry = BOOK.signals[name]
    masked, _ = mask_figurative(normalise(text).text)  # the screen reads signals on the masked text
    read = masked + (" " if entry.reads == "before_match" else "")
    assert bool(BOOK.regex(entry).search(read)) is want


def test_every_flag_and_signal_the_code_reads_is_in_the_data() -> None:
    assert all(BOOK.flagged(f) for f in FLAGS)
    assert set(BOOK.signals) == set(SIGNALS)


def test_files_are_by_language() -> None:
    assert {p.parent.name for p in RULES_DIR.rglob("*.yaml") if p.parent != RULES_DIR} <= set(LANGUAGES)
    assert {"ru", "uk", "ar", "hi", "zh", "ja", "tr"} <= {p.parent.name for p in RULES_DIR.rglob("*.yaml")}  # other scripts, since 2026-12-07


_RULE = ("rules:\n  - {name: x.one, why: b, category: distress, weight: 0.5, patterns: ['\\bxyzzy\\b'], match: ['xyzzy'],"
         " no_match: ['plugh']}\n")


@pytest.mark.parametrize("where, text, problem", [
    pytest.param("en/bad.yaml", "rules: []\nextra: 1\n", "extra", id="unknown-top-key"),
    pytest.param("en/bad.yaml", _RULE.replace("why: b,", "why: b, colour: red,"), "colour", id="unknown-rule-key"),
    pytest.param("en/bad.yaml", _RULE.replace("weight: 0.5,", "weight: 0.5, flags: [negateable],"), "negateable",
                 id="unknown-flag"),
    pytest.param("en/bad.yaml", _RULE.replace("\\bxyzzy\\b", "{nowhere}"), "nowhere", id="unknown-list"),
    pytest.param("en/bad.yaml", _RULE.replace("distress", "sadness"), "sadness", id="unknown-category"),
    pytest.param("en/bad.yaml", _RULE.replace("x.one", "ssi.wish_dead"), "ssi.wish_dead", id="duplicate-rule-name"),
    pytest.param("en/bad.yaml", _RULE.replace("x.one", "ssi.farewell_forever"), "ssi.farewell_forever",
                 id="name-of-the-phrase-file"),
    pytest.param("en/bad.yaml", _RULE.replace("match: ['xyzzy'],", "match: [],"), "match", id="no-examples"),
    pytest.param("en/bad.yaml", _RULE.replace("\\bxyzzy\\b", "(x"), "compile", id="bad-regex"),
    pytest.param("en/bad.yaml", _RULE.replace("weight: 0.5,", "weight: 0.5, flags: [past_demotable],"), "negatable",
                 id="demotable-but-not-negatable"),
    pytest.param("xx/bad.yaml", "rules: []\n", "language", id="unknown-language-folder"),
    pytest.param("en/bad.yaml", "signals:\n  - {name: safe_statment, why: b, patterns: ['x'], match: ['x'], no_match: ['y']}\n",
                 "safe_statment", id="unknown-signal"),
])
def test_bad_rule_data_raises(tmp_path: Path, where: str, text: str, problem: str) -> None:
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    (root / where).parent.mkdir(exist_ok=True)
    (root / where).write_text(text, encoding="utf-8")
    if "x.one" in text:
        order = root / "order.yaml"
        order.write_text(order.read_text(encoding="utf-8") + "  - x.one\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_rulebook(root, frozenset({"ssi.farewell_forever"}))


def _break(root: Path, rel: str, old: str, new: str) -> None:
    path = root / rel
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("rel, old, new, problem", [
    pytest.param("order.yaml", "  - ssi.wish_dead\n", "", "leaves out", id="rule-missing-from-order"),
    pytest.param("order.yaml", "  - ssi.wish_dead\n", "  - ssi.wish_dead\n  - ssi.wish_deed\n", "ssi.wish_deed",
                 id="order-names-unknown-rule"),
    pytest.param("en/signals.yaml", "  - name: negation_void\n", "  - name: negation_void_gone\n", "negation_void",
                 id="signal-the-code-reads-missing"),
    pytest.param("en/distress.yaml", "flags: [warning_sign, strong_distress]", "flags: [strong_distress]", "warning_sign",
                 id="flag-the-code-reads-on-no-rule"),
])
def test_names_the_code_reads_must_be_defined(tmp_path: Path, rel: str, old: str, new: str, problem: str) -> None:
    root = tmp_path / "rules"
    shutil.copytree(RULES_DIR, root)
    _break(root, rel, old, new)
    if "warning_sign" in old:  # every warning sign loses its flag, not only the first
        for path in root.rglob("*.yaml"):
            path.write_text(path.read_text(encoding="utf-8").replace("flags: [warning_sign, strong_distress]",
                                                                      "flags: [strong_distress]"), encoding="utf-8")
    with pytest.raises(ConfigError, match=problem):
        load_rulebook(root)
