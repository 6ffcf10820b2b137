"""Mood from how someone sounds: prosody with Praat (parselmouth) as arousal evidence.

Features (Praat pitch and intensity at 10 ms steps):

* speaking rate proxy: syllable nuclei per second of speech (intensity peaks
  above the median level, at least 2 dB above the dip before them, voiced);
* pauses: share of the speech span quieter than 25 dB below the loudest frame
  in runs of at least 0.2 s;
* pitch mean (Hz) and pitch variability (standard deviation in semitones).

Each feature becomes a z-like score against broad adult conversational
references (`REFERENCE`): faster, fewer pauses, higher and livelier pitch
mean more activation. Absolute loudness is not used (microphone gain varies).
Valence is hard to hear from prosody alone, so the voice reports valence 0
with a note, and `fusion.RELIABILITY` gives it almost no valence weight.

Formats: whatever libsndfile reads (WAV, OGG Vorbis/Opus, FLAC). Browser
recordings in WebM must be converted first (no ffmpeg dependency here).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Optional

import numpy as np
from pydantic import BaseModel

from attune.common.errors import InputError

from .model import Evidence, MoodEstimate, clip, emotions_from_va

__all__ = ["VoiceFeatures", "voice_features", "infer_voice", "REFERENCE", "MIN_SECONDS"]

MIN_SECONDS = 0.5
SILENCE_PEAK = 1e-3  # full scale; quieter than about -60 dBFS everywhere is silence

# (centre, scale, weight, direction): score = direction * (x - centre) / scale
REFERENCE = {
    "syllable_rate": (3.8, 1.2, 1.0, +1),  # nuclei per second of speech
    "pause_share": (0.22, 0.12, 0.7, -1),  # fraction of the speech span
    "pitch_semitones": (0.0, 5.0, 0.6, +1),  # semitones re 150 Hz (sex unknown: low weight)
    "pitch_sd_semitones": (2.5, 1.5, 0.4, +1),
}


class VoiceFeatures(BaseModel):
    seconds: float  # whole file
    speech_seconds: float  # first to last loud frame
    syllable_rate: float  # nuclei per second of speech
    pause_share: float  # 0-1
    pitch_hz: float  # mean F0 of voiced frames
    pitch_semitones: float  # mean F0 in semitones re 150 Hz
    pitch_sd_semitones: float
    voiced_share: float  # 0-1 of the speech span


def _load(path: Path) -> tuple[np.ndarray, int]:
    import soundfile as sf

    if not path.is_file():
        raise InputError(f"Audio file {str(path)!r} does not exist.")
    try:
        data, rate = sf.read(str(path), dtype="float64", always_2d=True)
    except Exception:  # libsndfile raises its own error types for unknown formats
        hint = " WebM from a browser must be converted to OGG or WAV first." if path.suffix.lower() == ".webm" else ""
        raise InputError(f"{path.name} is not audio that can be read (WAV, OGG, FLAC).{hint}") from None
    return data.mean(axis=1), int(rate)


def voice_features(path: str | Path) -> VoiceFeatures:
    """Measure prosody; InputError for unreadable, too short (< 0.5 s), silent or voiceless audio."""
    import parselmouth

    p = Path(path)
    x, rate = _load(p)
    seconds = len(x) / rate if rate else 0.0
    if seconds < MIN_SECONDS:
        raise InputError(f"{p.name} is {seconds:.2f} s long; at least {MIN_SECONDS} s of speech is needed.")
    if not np.isfinite(x).all() or np.max(np.abs(x)) < SILENCE_PEAK:
        raise InputError(f"{p.name} is silent; please check the microphone and record again.")
    snd = parselmouth.Sound(x, sampling_frequency=rate)
    pitch = snd.to_pitch(time_step=0.01, pitch_floor=60.0, pitch_ceiling=500.0)
    f0 = pitch.selected_array["frequency"]
    p_times = pitch.xs()
    inten = snd.to_intensity(minimum_pitch=75.0, time_step=0.01)
    db = inten.values[0]
    times = inten.xs()
    top = float(np.max(db))
    db = np.maximum(db, top - 50.0)  # digital silence reads as -300 dB; floor it
    loud = db > top - 25.0
    if loud.sum() < 5:
        raise InputError(f"{p.name} has no speech loud enough to measure.")
    first, last = np.argmax(loud), len(loud) - 1 - np.argmax(loud[::-1])
    span = slice(first, last + 1)
    speech_seconds = max(0.01, float(times[last] - times[first]) + 0.01)

    # pauses: quiet runs >= 0.2 s inside the speech span
    quiet = ~loud[span]
    paused, run = 0, 0
    for q in list(quiet) + [False]:
        if q:
            run += 1
        else:
            if run >= 20:  # 20 frames of 10 ms
                paused += run
            run = 0
    pause_share = paused / max(1, len(quiet))

    # voiced frames, mapped onto intensity times
    voiced_at = np.interp(times, p_times, (f0 > 0).astype(float), left=0, right=0) > 0.5
    voiced = f0[f0 > 0]
    if len(voiced) < 10:
        raise InputError(f"{p.name} has no voice in it that can be measured (no pitch found).")

    # syllable nuclei: local intensity maxima above the median, with a >= 2 dB dip before them
    seg = db[span]
    thr = float(np.median(seg))
    nuclei, last_peak, dip = 0, -1e9, np.inf
    for i in range(1, len(seg) - 1):
        dip = min(dip, seg[i])
        if seg[i] >= seg[i - 1] and seg[i] > seg[i + 1] and seg[i] > thr and voiced_at[first + i]:
            if seg[i] - dip >= 2.0 and i - last_peak >= 8:  # at least 80 ms apart
                nuclei += 1
                last_peak, dip = i, np.inf
    semis = 12 * np.log2(voiced / 150.0)
    return VoiceFeatures(
        seconds=round(seconds, 3),
        speech_seconds=round(speech_seconds, 3),
        syllable_rate=round(nuclei / speech_seconds, 3),
        pause_share=round(pause_share, 3),
        pitch_hz=round(float(np.mean(voiced)), 1),
        pitch_semitones=round(float(np.mean(semis)), 2),
        pitch_sd_semitones=round(float(np.std(12 * np.log2(voiced / np.median(voiced)))), 2),
        voiced_share=round(float(voiced_at[span].mean()), 3),
    )


def infer_voice(path: str | Path, features: Optional[VoiceFeatures] = None) -> MoodEstimate:
    """Arousal from prosody (valence left at 0 and said so); see the module docstring."""
    f = features or voice_features(path)
    evidence = []
    total = weight_sum = 0.0
    for name, (centre, scale, weight, direction) in REFERENCE.items():
        value = getattr(f, name)
        z = max(-2.5, min(2.5, direction * (value - centre) / scale))
        total += weight * z
        weight_sum += weight
        evidence.append(Evidence(
            source="voice",
            detail=f"{name.replace('_', ' ')} {value:g} (reference {centre:g})",
            arousal_delta=round(math.tanh(z), 3),
            value=value,
            weight=weight,
        ))
    arousal = clip(math.tanh(total / weight_sum))
    evidence.append(Evidence(
        source="voice",
        detail="valence is hard to hear in the voice alone; left neutral",
        valence_delta=0.0,
        weight=0.0,
    ))
    # more speech, more to go on; prosody alone never reaches high confidence
    confidence = clip(0.2 + 0.3 * min(1.0, f.speech_seconds / 6.0), 0.0, 0.5)
    return MoodEstimate(
        valence=0.0,
        arousal=round(arousal, 4),
        emotions=emotions_from_va(0.0, arousal, sharpness=2.0),
        confidence=round(confidence, 3),
        evidence=evidence,
    )
