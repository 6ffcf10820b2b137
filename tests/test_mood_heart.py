"""Heart rate and HRV: RMSSD against hand values, CSV shapes, bad input."""

from __future__ import annotations

import math

import numpy as np
import pytest

from attune.common.errors import InputError
from attune.tools.mood import Baseline, check_bpm, read_heart_file, reading_from_rr, rmssd_from_rr
from attune.tools.mood.heart import HeartReading, heart_arousal

# 40 beats alternating 800/810 ms: every successive difference is 10 ms -> RMSSD 10 ms exactly.
ALTERNATING = [800.0, 810.0] * 20
# 800, 820, 790, 830 repeated: differences 20, -30, 40, -30 ... hand value below
PATTERN = [800.0, 820.0, 790.0, 830.0] * 10


def _hand_rmssd(rr):
    d = [b - a for a, b in zip(rr, rr[1:])]
    return math.sqrt(sum(x * x for x in d) / len(d))


RMSSD_CASES = [
    ("alternating-10ms", ALTERNATING, 10.0),
    # differences: +20, -30, +40, then repeat (-30 between 830 and the next 800): 39 diffs
    ("pattern", PATTERN, math.sqrt((10 * 20**2 + 10 * 30**2 + 10 * 40**2 + 9 * 30**2) / 39)),
]


@pytest.mark.parametrize("rr,expected", [(r, e) for _, r, e in RMSSD_CASES], ids=[i for i, _, _ in RMSSD_CASES])
def test_rmssd_matches_hand_computation(rr, expected):
    assert _hand_rmssd(rr) == pytest.approx(expected)
    hr, rmssd = rmssd_from_rr(np.array(rr))
    assert rmssd == pytest.approx(expected, rel=1e-6)
    assert hr == pytest.approx(60000 / np.mean(rr), rel=1e-6)


def _write(tmp_path, name, text):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _rr_ms(n=60, seed=0):
    rng = np.random.default_rng(seed)
    return list(np.round(850 + 30 * np.sin(np.arange(n) / 3) + rng.normal(0, 8, n)))


RR = _rr_ms()
EXPECTED_RMSSD = _hand_rmssd(RR)

SHAPES = [
    ("rr-ms-no-header", "\n".join(f"{x:.0f}" for x in RR), "rr"),
    ("rr-seconds-no-header", "\n".join(f"{x / 1000:.3f}" for x in RR), "rr"),
    ("time-rr-header", "time,rr\n" + "\n".join(f"{i},{x:.0f}" for i, x in enumerate(RR)), "rr"),
    ("semicolon-decimal-comma", "Time;RR (s)\n" + "\n".join(f"{i};{x / 1000:.3f}".replace(".", ",") for i, x in enumerate(RR)), "rr"),
    ("polar-like-ibi", "Phone timestamp;RR-interval [ms]\n" + "\n".join(f"2024-05-01T10:00:{i:02d};{x:.0f}" for i, x in enumerate(RR)), "rr"),
    ("timestamp-hr", "timestamp,hr\n" + "\n".join(f"{i},{70 + i % 3}" for i in range(30)), "hr_series"),
    ("garmin-like-hr", "Time,HR (bpm)\n" + "\n".join(f"00:00:{i:02d},{72 + i % 2}" for i in range(30)), "hr_series"),
    ("hr-no-header", "\n".join(str(64 + i % 4) for i in range(30)), "hr_series"),
]


@pytest.mark.parametrize("content,kind", [(c, k) for _, c, k in SHAPES], ids=[i for i, _, _ in SHAPES])
def test_csv_shapes(tmp_path, content, kind):
    reading = read_heart_file(_write(tmp_path, "export.csv", content))
    assert reading.source == kind
    if kind == "rr":
        assert reading.rmssd == pytest.approx(EXPECTED_RMSSD, abs=0.6)  # seconds files round to 1 ms
        assert reading.hr == pytest.approx(60000 / np.mean(RR), abs=0.5)
    else:
        assert 60 <= reading.hr <= 75 and reading.rmssd is None


def test_a_few_artefacts_are_corrected(tmp_path):
    rr = list(RR)
    rr[10] = 2300.0  # a missed beat
    rr[30] = None  # an empty cell
    text = "rr\n" + "\n".join("" if x is None else f"{x:.0f}" for x in rr)
    reading = read_heart_file(_write(tmp_path, "rr.csv", text))
    assert reading.corrected == 2
    assert reading.rmssd == pytest.approx(EXPECTED_RMSSD, rel=0.35)


BAD_FILES = [
    ("gaps", "rr\n" + "\n".join("" if i % 3 == 0 else "820" for i in range(60)), "gaps or artefacts"),
    ("junk", "rr\n" + "\n".join("hello" if i % 2 else "820" for i in range(60)), "not numbers"),
    ("wrong-units-bpm-in-rr", "rr\n" + "\n".join("72" for _ in range(60)), "beats per minute"),
    ("wrong-units-microseconds", "\n".join("812000" for _ in range(60)), "neither RR"),
    ("too-short", "rr\n800\n810\n790", "at least 20"),
    ("empty", "", "empty"),
    ("no-known-column", "foo,bar\n1,2\n3,4", "no column"),
    ("hr-out-of-range", "hr\n" + "\n".join("400" for _ in range(10)), "outside 25-240"),
]


@pytest.mark.parametrize("content,message", [(c, m) for _, c, m in BAD_FILES], ids=[i for i, _, _ in BAD_FILES])
def test_bad_heart_files(tmp_path, content, message):
    with pytest.raises(InputError, match=message):
        read_heart_file(_write(tmp_path, "bad.csv", content))


def test_binary_and_missing_files(tmp_path):
    p = tmp_path / "x.csv"
    p.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(InputError, match="binary"):
        read_heart_file(p)
    with pytest.raises(InputError, match="Cannot read"):
        read_heart_file(tmp_path / "missing.csv")


BPM = [("zero", 0), ("four-hundred", 400), ("negative", -5), ("nan", float("nan")), ("text", "fast")]


@pytest.mark.parametrize("bpm", [b for _, b in BPM], ids=[i for i, _ in BPM])
def test_bad_manual_bpm(bpm):
    with pytest.raises(InputError, match="25 ?(and|-) ?240"):
        check_bpm(bpm)


@pytest.mark.parametrize("bpm", [25, 60, 240], ids=["low-edge", "typical", "high-edge"])
def test_good_manual_bpm(bpm):
    assert check_bpm(bpm) == bpm


def test_too_many_rr_artefacts():
    rr = [800.0] * 30 + [3000.0] * 10
    with pytest.raises(InputError, match="gaps or artefacts"):
        reading_from_rr(rr)


AROUSAL = [
    # (id, reading, baseline, expected sign)
    ("fast-vs-own-rest", HeartReading(hr=100, source="manual"), Baseline(resting_hr=60), +1),
    ("at-own-rest", HeartReading(hr=58, source="manual"), Baseline(resting_hr=60), -1),
    ("low-rmssd-vs-own", HeartReading(hr=62, rmssd=15, source="rr"), Baseline(resting_hr=60, rmssd=45), +1),
    ("high-rmssd-population", HeartReading(hr=60, rmssd=80, source="rr"), None, -1),
]


@pytest.mark.parametrize("reading,baseline,sign", [(r, b, s) for _, r, b, s in AROUSAL], ids=[i for i, *_ in AROUSAL])
def test_heart_arousal_direction(reading, baseline, sign):
    arousal, personal, evidence = heart_arousal(reading, baseline)
    assert np.sign(arousal) == sign
    assert personal == (baseline is not None)
    assert all(e.source == "heart" for e in evidence)


def test_population_norms_weigh_less_than_baseline():
    reading = HeartReading(hr=95, source="manual")
    _, _, own = heart_arousal(reading, Baseline(resting_hr=70))
    _, _, pop = heart_arousal(reading, None)
    assert own[0].weight > pop[0].weight
