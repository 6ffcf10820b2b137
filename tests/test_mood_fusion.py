"""Self-report fusion, multi-source inference, and the conversation track."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from attune.common.errors import InputError
from attune.tools.mood import EMOTIONS, Baseline, MoodEstimate, MoodTrack, SelfReport, fuse, infer
from attune.tools.mood.model import emotions_from_va

NOW = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def _est(v, a, conf=0.8):
    return MoodEstimate(valence=v, arousal=a, emotions=emotions_from_va(v, a), confidence=conf)


SAM = [
    # (id, report, expected valence, expected arousal)
    ("sam-low-low", SelfReport(sam_valence=1, sam_arousal=1, at=NOW), -1.0, -1.0),
    ("sam-mid", SelfReport(sam_valence=5, sam_arousal=5, at=NOW), 0.0, 0.0),
    ("sam-high-high", SelfReport(sam_valence=9, sam_arousal=9, at=NOW), 1.0, 1.0),
    ("suds-0", SelfReport(suds=0, at=NOW), 0.0, -0.4),
    ("suds-10", SelfReport(suds=10, at=NOW), -1.0, 1.0),
    ("suds-5", SelfReport(suds=5, at=NOW), -0.5, 0.3),
]


@pytest.mark.parametrize("report,v,a", [(r, v, a) for _, r, v, a in SAM], ids=[i for i, *_ in SAM])
def test_rating_axes(report, v, a):
    rv, ra = report.axes()
    assert rv == pytest.approx(v) and ra == pytest.approx(a)


def test_fresh_rating_overrides_inference():
    inferred = _est(0.7, 0.6)  # text said "happy and excited"
    fused = fuse(inferred, SelfReport(sam_valence=2, sam_arousal=3, at=NOW), now=NOW)
    assert fused.valence == pytest.approx(-0.75) and fused.arousal == pytest.approx(-0.5)
    assert any(e.source == "disagreement" for e in fused.evidence)
    assert fused.confidence >= 0.9


AGES = [("fresh", 0, 1.0), ("half-life", 20, 0.5), ("two-half-lives", 40, 0.25), ("old", 240, 0.0)]


@pytest.mark.parametrize("minutes,weight", [(m, w) for _, m, w in AGES], ids=[i for i, *_ in AGES])
def test_rating_weight_decays(minutes, weight):
    inferred = _est(0.0, 0.0)
    rep = SelfReport(sam_valence=9, at=NOW - timedelta(minutes=minutes))
    assert fuse(inferred, rep, now=NOW).valence == pytest.approx(weight, abs=0.01)


def test_inference_fills_unrated_axis():
    fused = fuse(_est(0.2, 0.7), SelfReport(sam_valence=8, at=NOW), now=NOW)
    assert fused.valence == pytest.approx(0.75) and fused.arousal == pytest.approx(0.7)


def test_small_gap_is_not_a_disagreement():
    fused = fuse(_est(0.5, 0.0), SelfReport(sam_valence=7, at=NOW), now=NOW)
    assert not any(e.source == "disagreement" for e in fused.evidence)


BAD_REPORTS = [
    ("sam-zero", dict(sam_valence=0)),
    ("sam-ten", dict(sam_arousal=10)),
    ("suds-eleven", dict(suds=11)),
    ("nothing", dict()),
]


@pytest.mark.parametrize("kwargs", [k for _, k in BAD_REPORTS], ids=[i for i, _ in BAD_REPORTS])
def test_bad_self_reports(kwargs):
    with pytest.raises(ValidationError):
        SelfReport(**kwargs)


def test_future_rating_is_refused():
    with pytest.raises(InputError, match="future"):
        fuse(_est(0, 0), SelfReport(suds=3, at=NOW + timedelta(hours=1)), now=NOW)


def test_infer_with_nothing_is_neutral():
    m = infer()
    assert m.confidence == 0 and m.emotions["neutral"] == 1.0


def test_infer_text_and_fresh_rating():
    m = infer(text="I'm so happy and excited!", self_report=SelfReport(sam_valence=2, sam_arousal=2, at=NOW), now=NOW)
    assert m.valence < -0.5 and m.arousal < -0.5
    assert any(e.source == "disagreement" for e in m.evidence)


def test_heart_raises_arousal_not_valence():
    calm_text = "I'm sitting at home."
    plain = infer(text=calm_text)
    racing = infer(text=calm_text, heart_rate=120, baseline=Baseline(resting_hr=60))
    assert racing.arousal > plain.arousal + 0.1
    assert racing.valence == pytest.approx(plain.valence, abs=0.05)
    assert any(e.source == "fusion" for e in racing.evidence)


def test_heart_only_with_rr_sequence():
    m = infer(rr=[700.0, 705.0] * 20, baseline=Baseline(resting_hr=60, rmssd=40))
    assert m.arousal > 0.3 and m.valence == 0


def test_bad_heart_rate_through_infer():
    with pytest.raises(InputError, match="25-240"):
        infer(text="hi", heart_rate=0)


def test_emotions_always_sum_to_one():
    m = infer(text="tired but okay", heart_rate=80)
    assert set(m.emotions) == set(EMOTIONS)
    assert sum(m.emotions.values()) == pytest.approx(1.0, abs=1e-6)


def test_track_smooths_and_flags_jumps():
    track = MoodTrack()
    assert track.update(_est(0.5, -0.5)) is None  # first turn sets the state
    assert track.update(_est(0.45, -0.4)) is None
    v_before = track.valence
    jump = track.update(_est(-0.8, 0.8, conf=0.9))
    assert jump is not None and jump.size > 1.0
    assert -0.8 < track.valence < v_before  # moved toward, not onto, the new point
    assert track.jumps == [jump]


def test_track_ignores_low_confidence_turns():
    track = MoodTrack()
    track.update(_est(0.5, -0.5))
    assert track.update(_est(-0.9, 0.9, conf=0.1)) is None
    assert track.valence > 0.3


def test_track_round_trips_through_json():
    track = MoodTrack()
    for v, a in [(0.5, -0.5), (-0.8, 0.8), (0.1, 0.0)]:
        track.update(_est(v, a), at=NOW)
    data = json.loads(json.dumps(track.to_dict()))
    again = MoodTrack.from_dict(data)
    assert again == track
    assert again.current().valence == pytest.approx(track.valence)
