"""The session follows the person: music on request, feedback honoured by the next piece and named.

Whole turns through ``run_turn`` with the scripted model; the pieces are really
planned and rendered. Wordings here are the tests' own, not lines of the
reader's training data or of the blind sets.
"""

from __future__ import annotations

import pytest

from attune.agent.music_prefs import MusicPrefs, PieceMeasures, apply_feedback, describe_change, measures
from attune.agent.turn import collect, run_turn
from attune.tools.music.limits import MusicLimits


def say(ctx, ref, text):
    return collect(run_turn(ctx, ref, text))


def piece(done) -> PieceMeasures:
    assert done.music, f"no music on this turn: {done.reply}"
    return measures(done.music["plan"], done.music["seconds"])


@pytest.mark.parametrize("text", ["hey, could you put on something calming for me?",
                                  "rough day. some music would help i think",
                                  "¿puedes ponerme algo de música tranquila?"])
def test_a_first_message_asking_for_music_gets_music_that_turn(ctx, text):
    done = say(ctx, ctx.start_session("first-ask"), text)
    assert done.step == "compose" and done.music is not None
    assert "keep notes" in done.reply  # consent is asked alongside, never as a gate


FEEDBACK = [
    ("faster", "hmm, a bit sluggish that one, could the next go quicker?",
     lambda a, b: b.bpm - a.bpm >= 8, "quicker"),
    ("slower", "that felt hurried, can you slow the next one right down",
     lambda a, b: a.bpm - b.bpm >= 8, "slower"),
    ("brighter", "could the next one feel more hopeful?",
     lambda a, b: b.major - a.major >= 0.25 or b.register_midi - a.register_midi >= 2, "major"),
    ("shorter", "lovely but it was too long for my break, make it shorter",
     lambda a, b: b.seconds <= 0.7 * a.seconds, "shorter"),
    ("softer", "it was a bit loud for me, softer next time please",
     lambda a, b: a.velocity - b.velocity >= 8, "softer"),
    ("no-piano", "could you leave the piano out next time?",
     lambda a, b: not any("piano" in i for i in b.instruments), "without the piano"),
    # two changes at once (2026-12-07): the phrase count makes the mean tempo move in steps of about 10 beats a
    # minute, and the plan kept was the last one tried, not the one that honoured the ask (7.4 slower; 3.6 faster)
    ("calmer-unhurried", "a bit calmer and not so hurried please",
     lambda a, b: a.bpm - b.bpm >= 8 and a.velocity > b.velocity, "slower"),
    ("quicker-livelier", "quicker and more lively next time!",
     lambda a, b: b.bpm - a.bpm >= 8 and b.velocity > a.velocity, "quicker"),
]


@pytest.mark.parametrize("text,check,said", [(t, c, s) for _, t, c, s in FEEDBACK], ids=[k for k, *_ in FEEDBACK])
def test_spoken_feedback_changes_the_next_piece_and_the_reply_says_how(ctx, text, check, said):
    ref = ctx.start_session("feedback")
    first = piece(say(ctx, ref, "please play me some music"))
    done = say(ctx, ref, text)
    assert check(first, piece(done)), (first, piece(done))
    assert said in done.reply


def test_a_change_persists_until_the_person_changes_it_again(ctx):
    ref = ctx.start_session("persist")
    first = piece(say(ctx, ref, "play me something please"))
    faster = piece(say(ctx, ref, "too slow, faster please"))
    again = piece(say(ctx, ref, "another one please"))
    assert faster.bpm - first.bpm >= 8 and abs(again.bpm - faster.bpm) <= 4


def test_the_profile_limit_is_said_not_hidden():
    limits = MusicLimits(min_bpm=50, max_bpm=90)
    last = PieceMeasures(bpm=86, velocity=60, major=1.0, register_midi=67, seconds=60, instruments=["piano"])
    prefs, notes = apply_feedback(MusicPrefs(), {"tempo": 1}, [], [], last, limits)
    assert prefs.bpm == 90 and any("as fast as your settings allow" in n for n in notes)


def test_crisis_mode_keeps_only_calming_changes():
    last = PieceMeasures(bpm=70, velocity=60, major=1.0, register_midi=67, seconds=60, instruments=["piano"])
    prefs, notes = apply_feedback(MusicPrefs(), {"tempo": 1, "loudness": -1}, [], [], last, MusicLimits(), crisis=True)
    assert prefs.bpm is None and prefs.velocity < 60 and notes


def test_the_change_is_named_with_numbers():
    old = PieceMeasures(bpm=76, velocity=60, major=0.3, register_midi=64, seconds=60, instruments=["piano"])
    new = PieceMeasures(bpm=92, velocity=60, major=1.0, register_midi=64, seconds=60, instruments=["piano"])
    assert describe_change(old, new, {"tempo": 1, "mode": 1}, [], []) == (
        "This one is quicker: about 92 beats a minute instead of 76, and in a major key.")


def test_the_plan_kept_is_the_one_that_honours_the_ask(monkeypatch):
    """Whole phrases in a fixed length make the mean tempo move in steps; the correction loop must keep the
    plan that is audibly faster, not whichever it tried last (it had kept 75.6 when 86.2 was tried)."""
    import types

    import attune.agent.music_prefs as music_prefs
    from attune.agent.music_step import _plan_to_prefs

    def plan_with(adjust):  # a planner whose mean tempo jumps between 75.6 and 86.2 around an offset of -3
        return types.SimpleNamespace(model_dump=lambda **_: {"offset": adjust.bpm_offset})

    monkeypatch.setattr(music_prefs, "measures", lambda plan, *a: types.SimpleNamespace(
        bpm=86.2 if plan["offset"] > -3 else 75.6, velocity=60.0))
    faster = MusicPrefs(bpm=82.0)  # asked "faster" after a piece at 72
    kept = _plan_to_prefs(plan_with, faster, last_bpm=72.0)
    assert music_prefs.measures(kept.model_dump()).bpm == 86.2
    slower = MusicPrefs(bpm=66.0)  # "slower" after a piece at 75.6: only a lower step would be heard
    monkeypatch.setattr(music_prefs, "measures", lambda plan, *a: types.SimpleNamespace(
        bpm=75.6 if plan["offset"] > -6 else 64.9 if plan["offset"] > -16 else 54.0, velocity=60.0))
    kept = _plan_to_prefs(plan_with, slower, last_bpm=75.6)
    assert 75.6 - music_prefs.measures(kept.model_dump()).bpm >= 8
    # stuck on a step just short of audible (64.5 from 72) for a wide range of offsets: pushed past it
    monkeypatch.setattr(music_prefs, "measures", lambda plan, *a: types.SimpleNamespace(
        bpm=64.5 if plan["offset"] > -14 else 53.5, velocity=60.0))
    kept = _plan_to_prefs(plan_with, MusicPrefs(bpm=62.0), last_bpm=72.0)
    assert music_prefs.measures(kept.model_dump()).bpm == 53.5
