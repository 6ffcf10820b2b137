"""Voice prosody: a calm and an agitated synthetic voice, and bad audio."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from attune.common.errors import InputError
from attune.tools.mood import infer, infer_voice

SENTENCE = "I have been thinking about the day, and how things went at the clinic this morning."
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed (apt install espeak-ng)")


def _speak(path, *args):
    subprocess.run(["espeak-ng", *args, "-w", str(path), SENTENCE], check=True, capture_output=True)
    return path


@pytest.fixture(scope="module")
def voices(tmp_path_factory):
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng)")
    d = tmp_path_factory.mktemp("voices")
    calm = _speak(d / "calm.wav", "-s", "110", "-p", "30")
    agitated = _speak(d / "agitated.wav", "-s", "220", "-p", "80", "-a", "200")
    return infer_voice(calm), infer_voice(agitated)


@needs_espeak
def test_calm_and_agitated_voices_sit_on_either_side(voices):
    calm, agitated = voices
    assert calm.arousal < 0 < agitated.arousal
    assert agitated.arousal - calm.arousal > 0.5


@needs_espeak
def test_voice_says_valence_is_hard_to_hear(voices):
    for est in voices:
        assert est.valence == 0
        assert any("valence is hard to hear" in e.detail for e in est.evidence)
        assert 0 < est.confidence <= 0.5


@needs_espeak
def test_ogg_is_read(tmp_path):
    wav = _speak(tmp_path / "v.wav", "-s", "160")
    data, rate = sf.read(wav)
    ogg = tmp_path / "v.ogg"
    sf.write(ogg, data, rate, format="OGG", subtype="VORBIS")
    assert -1 <= infer_voice(ogg).arousal <= 1


def _silent(p):
    sf.write(p, np.zeros(16000 * 2), 16000)


def _short(p):
    t = np.arange(int(16000 * 0.3)) / 16000
    sf.write(p, 0.5 * np.sin(2 * np.pi * 200 * t), 16000)


def _text(p):
    p.write_text("this is not audio at all\n" * 50)


def _webm(p):
    p.write_bytes(b"\x1aE\xdf\xa3" + b"\x00" * 400)


BAD_AUDIO = [
    ("silent", "silent.wav", _silent, "silent"),
    ("too-short", "short.wav", _short, "at least 0.5 s"),
    ("not-audio", "notes.wav", _text, "not audio"),
    ("webm", "clip.webm", _webm, "WebM"),
]


@pytest.mark.parametrize("name,make,message", [(n, m, msg) for _, n, m, msg in BAD_AUDIO], ids=[i for i, *_ in BAD_AUDIO])
def test_bad_audio(tmp_path, name, make, message):
    p = tmp_path / name
    make(p)
    with pytest.raises(InputError, match=message):
        infer_voice(p)


def test_missing_audio_file(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        infer(voice=tmp_path / "nope.wav")


def test_noise_without_voice(tmp_path):
    p = tmp_path / "noise.wav"
    rng = np.random.default_rng(1)
    sf.write(p, 0.3 * rng.standard_normal(16000 * 2), 16000)
    with pytest.raises(InputError):
        infer_voice(p)
