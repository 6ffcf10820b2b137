"""EEG arousal through BrainFlow: synthetic board, playback of a recording, bad files, baselines.

Every input comes from BrainFlow itself: the synthetic board streams (offline),
`record_synthetic` writes the file a user would get, and the bad files are cut
from that recording. About six seconds of streaming in all.
"""

from __future__ import annotations

import math
import time

import numpy as np
import pytest

pytest.importorskip("brainflow", reason="EEG needs BrainFlow: pip install brainflow 'setuptools<81'")

from attune.common.errors import ConfigError, InputError  # noqa: E402
from attune.tools.mood.eeg import (  # noqa: E402
    BANDS, CONFIDENCE, EegMonitor, _bf, eeg_arousal, infer_eeg, read_eeg_file, record_synthetic, stream_synthetic,
)

RECORD_S = 5.0  # seconds: enough whole seconds (4) to compare a recording with its own start, with room under load


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    """(live reading, path) of one synthetic recording written by `record_synthetic`."""
    path = tmp_path_factory.mktemp("eeg") / "synthetic.csv"
    live = record_synthetic(path, RECORD_S)
    return live, path


@pytest.fixture(scope="module")
def raw(recorded):
    """The recording as BrainFlow reads it back (board rows x samples)."""
    return _bf().DataFilter.read_file(str(recorded[1]))


def _check_reading(r, seconds):
    assert set(r.bands) == set(BANDS)
    assert sum(r.bands.values()) == pytest.approx(1.0, abs=1e-6)
    assert all(0.0 <= p <= 1.0 for p in r.bands.values())
    assert math.isfinite(r.index) and r.index > 0
    assert r.sampling_rate == 250 and len(r.channels) == 16 and r.channels[0] == "Fz"
    assert r.seconds == pytest.approx(seconds, abs=0.2)
    assert len(r.series) == int(r.seconds)


def test_synthetic_stream_and_live_monitor(recorded):
    # The monitor plays the recording in real time while the synthetic board streams:
    # two boards side by side, so the test waits for data once, not twice.
    _, path = recorded
    with EegMonitor("synthetic", file=path) as monitor:
        assert monitor.running
        assert monitor.latest(2) is None  # nothing has arrived yet
        live = stream_synthetic(2)
        deadline = time.monotonic() + 3
        window = monitor.latest(2)
        while window is None and time.monotonic() < deadline:
            time.sleep(0.05)
            window = monitor.latest(2)
    assert not monitor.running
    monitor.stop()  # a second stop is harmless
    _check_reading(live, 2.0)
    assert live.board == "SYNTHETIC_BOARD" and live.source == "live"
    assert window is not None
    _check_reading(window, 2.0)


def test_recording_plays_back_like_live(recorded):
    live, path = recorded
    _check_reading(live, RECORD_S)
    played = read_eeg_file(path)
    assert played.source == "file"
    for band, p in live.bands.items():
        assert played.bands[band] == pytest.approx(p, abs=1e-6), band  # same samples, 6-decimal CSV
    assert played.index == pytest.approx(live.index, rel=1e-6)
    assert len(played.series) == len(live.series)


@pytest.mark.parametrize("board", ["synthetic", "SYNTHETIC_BOARD", -1, "-1"], ids=["name", "enum-name", "id", "id-text"])
def test_board_can_be_named_several_ways(recorded, board):
    live, path = recorded
    assert read_eeg_file(path, board).index == pytest.approx(live.index, rel=1e-6)


def _write(data, path):
    _bf().DataFilter.write_file(np.ascontiguousarray(data), str(path), "w")
    return path


def _slow_clock(data):
    out = data.copy()
    out[30] = out[30, 0] + np.arange(out.shape[1]) / 125.0  # timestamps of a 125 Hz board
    return out


BAD_FILES = [
    ("three-columns", lambda raw, d: _write(raw[:3], d / "three.csv"),
     "That EEG file has 3 columns; a Synthetic board (SYNTHETIC_BOARD) recording has 32"),
    ("too-few-rows", lambda raw, d: _write(raw[:, :100], d / "short.csv"), "needs at least 2 seconds of data"),
    ("wrong-sampling-rate", lambda raw, d: _write(_slow_clock(raw), d / "slow.csv"), "sampled at about 125 Hz"),
    ("prose-text", lambda raw, d: _text(d / "notes.txt", "Dear diary,\nToday I felt calm.\n"),
     "notes.txt is not a BrainFlow EEG recording"),
    ("header-line", lambda raw, d: _text(d / "gui.csv", "Sample Index, EXG Channel 0, EXG Channel 1\n0, 1.5, 2.5\n"),
     "gui.csv is not a BrainFlow EEG recording"),
    ("empty", lambda raw, d: _text(d / "empty.csv", "\n\n"), "empty.csv is empty"),
    ("binary", lambda raw, d: _npy(raw, d / "raw.npy"), "raw.npy is not a BrainFlow EEG recording (it looks binary"),
    ("missing", lambda raw, d: d / "nowhere.csv", "Cannot read the EEG file"),
    ("folder", lambda raw, d: d, "is a folder, not an EEG recording"),
]


def _text(path, text):
    path.write_text(text, encoding="utf-8")
    return path


def _npy(data, path):
    np.save(path, data)
    return path


@pytest.mark.parametrize("make,message", [(m, msg) for _, m, msg in BAD_FILES], ids=[i for i, _, _ in BAD_FILES])
def test_bad_files_raise_input_error(raw, tmp_path, make, message):
    path = make(raw, tmp_path)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        read_eeg_file(path)


def test_wrong_board_for_the_file(recorded):
    with pytest.raises(InputError, match="has 32 columns; a Muse2 board"):
        read_eeg_file(recorded[1], "muse_2")


@pytest.mark.parametrize("board,message", [
    ("nonsense", "Unknown BrainFlow board 'nonsense'"),
    ("playback_file", "not the playback or streaming board"),
    (123456, "no BrainFlow board with id 123456"),
], ids=["unknown-name", "playback-board", "unknown-id"])
def test_bad_board_names(recorded, board, message):
    with pytest.raises(InputError, match=message):
        read_eeg_file(recorded[1], board)


# baseline = reading.index * factor: arousal = tanh(ln(1 / factor))
BASELINES = [
    ("own-baseline", 1.0, 0.0),
    ("baseline-half", 0.5, math.tanh(math.log(2))),
    ("baseline-double", 2.0, -math.tanh(math.log(2))),
]


@pytest.mark.parametrize("factor,expected", [(f, e) for _, f, e in BASELINES], ids=[i for i, _, _ in BASELINES])
def test_arousal_is_relative_to_personal_baseline(recorded, factor, expected):
    live, _ = recorded
    est = infer_eeg(live, baseline=live.index * factor)
    assert est.arousal == pytest.approx(expected, abs=1e-3)
    assert est.valence == 0.0
    assert est.confidence == CONFIDENCE["personal"]
    assert all(e.source == "eeg" for e in est.evidence)
    assert any("weak evidence" in e.detail for e in est.evidence)
    assert any("your resting" in e.detail for e in est.evidence)


def test_without_baseline_the_start_of_the_recording_stands_in(recorded):
    live, _ = recorded
    arousal, evidence = eeg_arousal(live, None)
    assert abs(arousal) < 0.5  # a steady synthetic signal barely changes
    assert "no resting baseline" in evidence[-1].detail and "first 2 s" in evidence[-1].detail
    assert infer_eeg(live).confidence == CONFIDENCE["within"]


def test_too_short_to_compare_gives_no_arousal(recorded):
    live, _ = recorded
    short = live.model_copy(update={"series": live.series[:3], "seconds": 3.0})
    est = infer_eeg(short)
    assert est.arousal == 0.0 and est.confidence == 0.0
    assert "too short" in est.evidence[-1].detail


@pytest.mark.parametrize("baseline", [0.0, -1.0, float("nan"), float("inf")], ids=["zero", "negative", "nan", "inf"])
def test_bad_baseline_is_refused(recorded, baseline):
    with pytest.raises(InputError, match="positive index"):
        eeg_arousal(recorded[0], baseline)


def test_monitor_misuse_is_explained(raw, tmp_path):
    unstamped = raw.copy()
    unstamped[30] = 0.0  # no timestamps: nothing to pace real-time playback by
    with pytest.raises(InputError, match="no timestamps"):
        EegMonitor("synthetic", file=_write(unstamped, tmp_path / "unstamped.csv"))
    monitor = EegMonitor("synthetic")
    with pytest.raises(ConfigError, match="call start"):
        monitor.latest(4)
    with pytest.raises(InputError, match="at least 2 seconds"):
        monitor.latest(1)
    with pytest.raises(ConfigError, match="not a BrainFlow input parameter"):
        EegMonitor("synthetic", params={"port": "/dev/null"}).start()
    with pytest.raises(InputError, match="at least 2 seconds"):
        stream_synthetic(1)
