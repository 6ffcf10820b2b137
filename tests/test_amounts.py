"""Amounts named for the next piece ("like 15 minutes", "around 70 bpm"): the data file's own examples, and a
session in which they are honoured."""

from __future__ import annotations

import pytest

from attune.agent.amounts import amounts, load_amounts
from attune.agent.reader import read

SPEC, _ = load_amounts()


@pytest.mark.parametrize("text,want", sorted(SPEC.examples.items()))
def test_named_amounts_read_as_written(text, want):
    got = amounts(text)
    assert {k: v for k, v in (("seconds", got.seconds), ("bpm", got.bpm)) if v is not None} == want


@pytest.mark.parametrize("text", SPEC.near_misses)
def test_time_that_passed_or_remains_is_not_a_length(text):
    got = amounts(text)
    assert got.seconds is None and got.bpm is None


def test_an_amount_in_talk_asks_nothing_of_the_music():
    r = read("I walked for 40 minutes by the river today, it was lovely")
    assert r.seconds is None and not r.asks_change


def test_a_named_length_and_tempo_are_honoured_and_said(ctx):
    from attune.agent.music_prefs import measures
    from attune.agent.turn import collect, run_turn

    ref = ctx.start_session("patient-amounts")
    first = collect(run_turn(ctx, ref, "could you play me something calm for about 3 minutes"))
    assert first.music and abs(first.music["seconds"] - 180) <= 10 and "3-minute piece" in first.reply
    second = collect(run_turn(ctx, ref, "lovely. the next one 1 minute long and around 100 bpm please"))
    m = measures(second.music["plan"], second.music["seconds"])
    assert abs(m.seconds - 60) <= 6 and abs(m.bpm - 100) <= 6, m
    assert "about 60 seconds instead of 3 minutes" in second.reply and "quicker" in second.reply
    third = collect(run_turn(ctx, ref, "can the next one be 20 minutes long"))
    assert third.music["seconds"] == pytest.approx(600, abs=10)
    assert "10 minutes is as long as a piece can be here" in third.reply
