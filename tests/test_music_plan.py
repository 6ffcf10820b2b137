"""Plan-level tests for attune.tools.music: limits, mapping, iso arc, bad input (no audio)."""

from __future__ import annotations

import pytest

from attune.common.errors import InputError
from attune.tools.music import MusicLimits, plan_music
from attune.tools.music.plan import MAX_REGISTER_STEP, MAX_SECONDS, MAX_TEMPO_STEP_BPM

ARCS = {
    "sad-low-to-calm": ((-0.7, -0.5), (0.3, -0.6)),
    "anxious-high-to-calm": ((-0.5, 0.8), (0.3, -0.6)),
    "tired-to-energised": ((-0.2, -0.8), (0.6, 0.7)),
    "happy-steady": ((0.7, 0.3), (0.7, 0.3)),
}


@pytest.mark.parametrize("start,target", ARCS.values(), ids=ARCS.keys())
@pytest.mark.parametrize("seconds", [30, 60, 180], ids=["30s", "60s", "180s"])
def test_tempo_moves_monotonically_with_bounded_steps(start, target, seconds):
    plan = plan_music(start, target, seconds)
    tempos = plan.tempo_curve()
    steps = [b - a for a, b in zip(tempos, tempos[1:])]
    assert all(abs(s) <= MAX_TEMPO_STEP_BPM + 1e-6 for s in steps)
    assert all(s >= -1e-6 for s in steps) or all(s <= 1e-6 for s in steps)
    regs = [s.register_midi for s in plan.segments]
    assert all(abs(b - a) <= MAX_REGISTER_STEP for a, b in zip(regs, regs[1:]))
    vels = [s.velocity for s in plan.segments]
    assert all(abs(b - a) <= plan.limits.max_velocity_step for a, b in zip(vels, vels[1:]))
    assert abs(plan.duration_s - seconds) / seconds <= 0.05


@pytest.mark.parametrize("start,target", ARCS.values(), ids=ARCS.keys())
def test_mode_changes_only_at_boundaries_with_a_pivot(start, target):
    plan = plan_music(start, target, 120)
    for prev, seg in zip(plan.segments, plan.segments[1:]):
        assert (seg.mode != prev.mode) == (seg.pivot_chord is not None)
    assert plan.segments[-1].ending and plan.segments[-1].cadence == "authentic"
    assert plan.segments[-1].bar_bpm[-1] < plan.segments[-1].bpm  # ritardando


def test_arousal_up_is_faster_and_louder_than_arousal_down():
    up = plan_music((0.0, 0.0), (0.3, 0.8), 60).segments[-1]
    down = plan_music((0.0, 0.0), (0.3, -0.8), 60).segments[-1]
    assert up.bpm > down.bpm + 15
    assert up.velocity > down.velocity + 10


def test_start_matches_mood_and_heart_rate_leads():
    plan = plan_music((-0.2, 0.6), (0.2, -0.6), 90, heart_rate=92)
    assert abs(plan.segments[0].bpm - 92) <= 92 * 0.2
    assert plan.segments[-1].bpm < plan.segments[0].bpm
    assert "heart rate" in " ".join(plan.explain()).lower()


@pytest.mark.parametrize("hr,expected", [(40, 50), (200, 120)], ids=["slow-hr-clipped", "fast-hr-clipped"])
def test_heart_rate_tempo_is_clipped_to_limits(hr, expected):
    plan = plan_music((0, 0), (0, 0), 30, heart_rate=hr)
    assert plan.segments[0].bpm == pytest.approx(expected, abs=expected * 0.2)
    assert all(50 <= t <= 120 for t in plan.tempo_curve())


def test_limits_clip_tempo_and_velocity():
    limits = MusicLimits(min_bpm=60, max_bpm=80, max_velocity=70)
    plan = plan_music((0.8, 1.0), (0.8, 1.0), 60, limits=limits)
    assert all(60 <= b <= 80 for s in plan.segments for b in s.bar_bpm)
    assert all(s.velocity <= 70 for s in plan.segments)


@pytest.mark.parametrize("bpm_per_min", [6, 5.5, 4.5], ids=["6-per-min", "5.5-per-min", "4.5-per-min"])
def test_breath_spans_whole_bars(bpm_per_min):
    plan = plan_music((-0.3, 0.4), (0.2, -0.5), 60, breaths_per_minute=bpm_per_min)
    b = plan.breathing
    bar_s = b.beats_per_bar * 60.0 / b.bpm
    assert b.bars_per_breath * bar_s == pytest.approx(60.0 / bpm_per_min, rel=1e-9)
    assert all(s.bpm == b.bpm for s in plan.segments)


def test_every_parameter_has_a_reason_and_explain_is_plain():
    plan = plan_music((-0.5, 0.5), (0.4, -0.4), 60)
    for seg in plan.segments:
        assert {"mode", "tempo", "register", "dynamics", "articulation", "harmony", "texture"} <= set(seg.reasons)
    text = " ".join(plan.explain())
    assert "Altshuler" in text and "Eerola" in text


@pytest.mark.parametrize(
    "kwargs",
    [
        dict(start=(1.5, 0.0), target=(0, 0), seconds=60),
        dict(start=(0.0, -1.2), target=(0, 0), seconds=60),
        dict(start=(0, 0), target=(float("nan"), 0), seconds=60),
        dict(start=(0, 0), target=(0, 0), seconds=0),
        dict(start=(0, 0), target=(0, 0), seconds=-5),
        dict(start=(0, 0), target=(0, 0), seconds=60, instruments=["kazoo"]),
        dict(start=(0, 0), target=(0, 0), seconds=60, heart_rate=0),
        dict(start=(0, 0), target=(0, 0), seconds=60, breaths_per_minute=-1),
    ],
    ids=["valence-1.5", "arousal--1.2", "nan-target", "seconds-0", "seconds-neg5", "unknown-instrument",
         "heart-rate-0", "breathing-negative"],
)
def test_bad_input_is_an_input_error(kwargs):
    with pytest.raises(InputError) as err:
        plan_music(**kwargs)
    assert str(err.value).endswith(".")


def test_unknown_instrument_lists_valid_names():
    with pytest.raises(InputError, match="Valid instruments are: .*piano"):
        plan_music((0, 0), (0, 0), 30, instruments=["theremin"])


def test_absurd_length_is_capped_with_a_note():
    plan = plan_music((0, 0), (0, -0.5), 1e9)
    assert plan.seconds == MAX_SECONDS
    assert plan.duration_s <= MAX_SECONDS * 1.05
    assert any("capped" in n for n in plan.notes)


@pytest.mark.parametrize(
    "kwargs",
    [dict(allowed_instruments=["banjo-ish"]), dict(min_bpm=100, max_bpm=60), dict(extra=1),
     dict(allowed_instruments=["piano"], forbidden_instruments=["piano"])],
    ids=["unknown-name", "min-above-max", "extra-key", "nothing-left"],
)
def test_bad_limits_are_rejected(kwargs):
    with pytest.raises(ValueError):
        MusicLimits(**kwargs)


def test_forbidden_instrument_request_is_refused():
    limits = MusicLimits(forbidden_instruments=["piano"])
    with pytest.raises(InputError, match="not allowed"):
        plan_music((0, 0), (0, 0), 30, limits=limits, instruments=["Piano"])
    assert MusicLimits().percussion is False
