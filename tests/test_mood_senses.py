"""Face and EEG inside the fused mood and `attune mood`: weights, evidence, bad files.

Real inputs only: scikit-image's astronaut photo (a smiling face), its coffee
cup (no face), and a BrainFlow synthetic-board recording made in the test.
"""

from __future__ import annotations

import json

import imageio.v3 as iio
import pytest
from skimage import data

from attune.common.errors import InputError
from attune.tools.mood import RELIABILITY, Baseline, infer
from attune.tools.mood.cli import main
from attune.tools.mood.eeg import record_synthetic


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("senses")
    iio.imwrite(root / "astronaut.png", data.astronaut())
    iio.imwrite(root / "coffee.png", data.coffee())
    (root / "note.png").write_text("not a picture at all\n")
    reading = record_synthetic(root / "eeg.csv", 6)
    (root / "three_columns.csv").write_text("".join(f"{i}\t0.1\t0.2\n" for i in range(2000)))
    return {"root": root, "eeg_index": reading.index}


def test_every_sense_has_one_reliability_row():
    for name in ("text", "voice", "heart_personal", "heart_population", "face", "eeg_personal", "eeg_within"):
        valence_w, arousal_w = RELIABILITY[name]
        assert 0 <= valence_w <= 1 and 0 <= arousal_w <= 1
    # an expression or a brain rhythm never outweighs the person's own words
    assert RELIABILITY["face"][0] < RELIABILITY["text"][0]
    assert RELIABILITY["eeg_personal"][1] < RELIABILITY["heart_personal"][1]
    assert RELIABILITY["eeg_personal"][0] == 0.0  # EEG says nothing about pleasantness here


def test_smiling_face_lifts_valence_a_little_and_says_so(files):
    words = infer(text="I feel flat today")
    both = infer(text="I feel flat today", image=files["root"] / "astronaut.png")
    assert both.valence > words.valence  # the smile pulls up ...
    assert both.valence < 0.5 * (words.valence + 0.7)  # ... but far less than an equal vote would
    details = [e.detail for e in both.evidence]
    assert any("expression looks happy" in d for d in details)
    assert any("not a feeling" in d for d in details)
    assert any(d.startswith("face: valence share") for d in details)


def test_picture_without_a_face_adds_nothing(files):
    words = infer(text="I feel flat today")
    with_cup = infer(text="I feel flat today", image=files["root"] / "coffee.png")
    assert (with_cup.valence, with_cup.arousal) == (words.valence, words.arousal)
    assert any(e.detail == "no face found in the picture" for e in with_cup.evidence)


def test_eeg_against_personal_baseline_moves_arousal_only(files):
    calm_baseline = Baseline(eeg_index=files["eeg_index"] / 2)  # the recording reads twice as engaged
    est = infer(text="I feel okay", eeg=files["root"] / "eeg.csv", baseline=calm_baseline)
    words = infer(text="I feel okay")
    assert est.arousal > words.arousal
    assert est.valence == pytest.approx(words.valence, abs=0.02)
    assert any(e.detail.startswith("eeg_personal: valence share 0.00") for e in est.evidence)


def test_cli_reads_image_and_eeg_file(files, capsys):
    root = files["root"]
    assert main(["mood", "--image", str(root / "astronaut.png"), "--eeg-file", str(root / "eeg.csv"),
                 "--resting-eeg-index", str(files["eeg_index"]), "--evidence"]) == 0
    out = json.loads(capsys.readouterr().out)
    sources = {e["source"] for e in out["evidence"]}
    assert {"face", "eeg"} <= sources and out["valence"] > 0


@pytest.mark.parametrize("argv,message", [
    (["--image", "note.png"], "not an image we can read"),
    (["--eeg-file", "three_columns.csv"], "3 columns"),
    (["--eeg-file", "astronaut.png"], "not a BrainFlow EEG recording"),
    (["--eeg-file", "missing.csv"], "missing.csv"),
    (["--image", "astronaut.png", "--resting-eeg-index", "-1"], "EEG index"),
])
def test_cli_bad_sensor_files_give_a_clear_message(files, capsys, argv, message):
    argv = [a if a.startswith("-") else str(files["root"] / a) for a in argv]
    assert main(["mood", *argv]) == InputError("x").exit_code
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
