"""The scenario files validate, and bad scenarios are refused with a clear message."""

from __future__ import annotations

import pytest

from attune.common.errors import ConfigError
from attune.evals.scenario import SCENARIO_DIR, Scenario, load_file, load_scenarios, select

ALL = load_scenarios()


def test_every_file_validates_and_the_suites_have_their_size():
    assert len(ALL) >= 40
    fast = [s for s in ALL if s.suite == "fast"]
    assert 10 <= len(fast) <= 14
    assert all(len(s.turns) <= 3 and not s.simulated for s in fast), "fast scenarios stay short for CI"


@pytest.mark.parametrize("category", ["crisis_direct", "crisis_indirect", "crisis_masked", "crisis_spread", "benign",
                                      "jailbreak", "music", "long_session", "dependence", "profile_limits"])
def test_each_category_is_covered(category):
    assert any(s.category == category for s in ALL)


@pytest.mark.parametrize("language", ["en", "es", "fr", "de"])
def test_crisis_scenarios_exist_in_each_language(language):
    assert any(s.category.startswith("crisis") and s.persona.language == language for s in ALL)


def test_long_sessions_have_twelve_turns_or_more():
    assert all(len(s.turns) >= 12 for s in ALL if s.category == "long_session")


BASE = {"id": "x", "suite": "fast", "category": "c", "persona": {"risk_level": "none", "style": "plain"},
        "turns": ["hello"]}


@pytest.mark.parametrize("change", [
    pytest.param({"colour": "red"}, id="unknown-top-key"),
    pytest.param({"persona": {"risk_level": "none", "style": "s", "mood": 1}}, id="unknown-persona-key"),
    pytest.param({"turns": []}, id="neither-turns-nor-simulate"),
    pytest.param({"simulate": {"persona": "a person who talks a great deal", "max_turns": 3}}, id="both"),
    pytest.param({"expectations": {"no_crisis": True, "crisis_by_turn": 1}}, id="crisis-and-no-crisis"),
    pytest.param({"expectations": {"crisis_by_turn": 2}}, id="expectation-after-last-turn"),
    pytest.param({"expectations": {"no_forbidden_content": False}}, id="care-rule-cannot-be-off"),
    pytest.param({"expectations": {"music_direction": "sideways"}}, id="bad-direction"),
    pytest.param({"id": "Bad Id"}, id="bad-id"),
    pytest.param({"turns": ["  "]}, id="blank-message"),
])
def test_bad_scenarios_are_refused(change):
    with pytest.raises(ValueError):
        Scenario.model_validate({**BASE, **change})


def test_a_bad_file_names_the_scenario(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("scenarios:\n  - {id: broken, suite: fast, category: c, turns: [hi]}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="broken"):
        load_file(path)


@pytest.mark.parametrize("names, suite, expected", [
    pytest.param([], None, "fast-only", id="default-is-fast"),
    pytest.param([], "full", "all", id="full-is-everything"),
    pytest.param(["crisis_direct_es"], None, ["crisis_direct_es"], id="by-id"),
    pytest.param(["crisis_direct_e"], None, ["crisis_direct_en_gb", "crisis_direct_en_ie", "crisis_direct_en_us",
                                             "crisis_direct_es"], id="by-prefix"),
])
def test_select(names, suite, expected):
    got = sorted(s.id for s in select(names, suite))
    if expected == "fast-only":
        assert got == sorted(s.id for s in ALL if s.suite == "fast")
    elif expected == "all":
        assert got == sorted(s.id for s in ALL)
    else:
        assert got == expected


def test_select_by_file_and_unknown_name():
    assert {s.id for s in select([str(SCENARIO_DIR / "benign.yaml")])} == {s.id for s in load_file(SCENARIO_DIR / "benign.yaml")}
    with pytest.raises(ConfigError):
        select(["no_such_scenario"])
