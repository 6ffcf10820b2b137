"""The tool registry: typed arguments, refusals within the profile's limits, JSON for a model server."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from attune.common.errors import InputError
from attune.agent.toolbox import REGISTRY, ToolContext, ToolRefused, call, langchain_tools, schemas

EXPECTED = {"read_mood", "compose_music", "explain_music", "search_guidance", "breathing_exercise",
            "play_from_library", "log_rating"}


@pytest.fixture
def tc(ctx):
    from attune.agent.policy import SessionState

    ref = ctx.start_session("patient-a")
    mood = {"valence": -0.4, "arousal": 0.5, "label": "tense", "confidence": 0.7, "emotions": {}, "evidence": []}
    return ToolContext(ctx, ref, SessionState(), ctx.profile("default"), mood, [])


def test_attune_tools_prints_every_tool_with_a_json_schema():
    out = subprocess.run([sys.executable, "-m", "attune.agent.cli", "tools"], capture_output=True, text=True,
                         check=True, timeout=120).stdout
    tools = json.loads(out)
    assert {t["name"] for t in tools} == EXPECTED
    for t in tools:
        assert t["description"] and t["parameters"]["type"] == "object"
        assert t["parameters"].get("additionalProperties") is False  # unknown arguments are refused
    compose = next(t for t in tools if t["name"] == "compose_music")["parameters"]["properties"]
    tempo = next(option for option in compose["tempo_bpm"]["anyOf"] if option["type"] == "number")
    assert tempo["maximum"] == 240 and "sleep" in json.dumps(compose["target"])


def test_a_forbidden_instrument_or_tempo_is_refused_not_clamped(tc):
    music = tc.profile.music.model_copy(update={"forbidden_instruments": ["violin"]})
    tc.profile = tc.profile.model_copy(update={"music": music})
    with pytest.raises(ToolRefused, match="does not allow violin"):
        call("compose_music", tc, {"instruments": ["violin", "harp"]})
    top = tc.profile.music.max_bpm
    with pytest.raises(ToolRefused, match="outside this profile's limits"):
        call("compose_music", tc, {"tempo_bpm": top + 20})


def test_in_a_crisis_only_calm_music_is_made(tc):
    tc.state.crisis_mode = True
    with pytest.raises(ToolRefused, match="only calm"):
        call("compose_music", tc, {"energy_change": 1})
    with pytest.raises(ToolRefused, match="only calm"):
        call("compose_music", tc, {"target": "energy"})


def test_bad_arguments_get_a_clear_sentence(tc):
    with pytest.raises(InputError, match="compose_music tool cannot take seconds"):
        call("compose_music", tc, {"seconds": 5000})
    with pytest.raises(InputError, match="cannot take volume"):
        call("compose_music", tc, {"volume": 11})
    with pytest.raises(InputError, match="no tool called 'launch'"):
        call("launch", tc, {})


def test_a_composed_piece_follows_the_arguments(tc):
    music = call("compose_music", tc, {"seconds": 30, "target": "sleep", "tempo_bpm": 60})
    assert abs(music["seconds"] - 30) < 8 and music["target_words"] == "ready for sleep"
    assert tc.state.goal is None  # the call did not change the session's own goal


def test_breathing_and_mood_tools_answer(tc):
    b = call("breathing_exercise", tc, {"breaths_per_minute": 6, "minutes": 2})
    assert b["breaths"] == 12 and b["inhale_s"] + b["exhale_s"] == pytest.approx(10)
    m = call("read_mood", tc, {"text": "I'm so wound up about tomorrow's exam"})
    assert m["arousal"] > 0


def test_the_same_registry_binds_to_a_langchain_model(tc):
    from langchain_core.utils.function_calling import convert_to_openai_tool

    tools = langchain_tools(tc)
    assert {t.name for t in tools} == set(REGISTRY) == EXPECTED
    spec = convert_to_openai_tool(next(t for t in tools if t.name == "breathing_exercise"))
    assert spec["function"]["parameters"]["properties"]["breaths_per_minute"]["maximum"] == 10
    refused = json.loads(next(t for t in tools if t.name == "explain_music").invoke({}))
    assert refused == {"refused": "There is no piece to explain yet."}  # a model reads refusals, no exception
    assert schemas()[0]["name"] == "read_mood"
