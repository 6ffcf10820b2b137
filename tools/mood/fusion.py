"""One mood from every input: words, voice, heart, face, EEG and the person's own rating.

Each inferred source gives (valence, arousal, confidence). The fused value
on an axis is the mean of the sources weighted by reliability x confidence,
with reliability from the single table below. A self-report is applied last
through `selfreport.fuse`, so a fresh rating always wins (CLINICAL.md).

RELIABILITY (valence weight, arousal weight), 0-1:

    source              valence  arousal   why
    text                  1.00     0.60    words name feelings; arousal less so
    voice                 0.05     0.60    prosody tracks activation, not pleasure
    heart_personal        0.00     0.70    HR/RMSSD against the person's baseline
    heart_population      0.00     0.35    against population norms: people differ widely
    face                  0.25     0.15    an expression is not a feeling: posed, masked, lit badly
    eeg_personal          0.00     0.40    beta/(alpha+theta) against the person's own calm baseline
    eeg_within            0.00     0.20    the same index, against the start of the same recording

Source confidences: text, voice, face and EEG report their own; an RR series
is 0.8, a heart-rate series 0.7, a typed pulse 0.6. A sensor that is absent,
refused or failing adds nothing; it never blocks the other sources.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Optional, Sequence, Union

from .heart import HeartReading, check_bpm, heart_arousal, read_heart_file, reading_from_rr
from .model import EMOTIONS, Baseline, Evidence, MoodEstimate, clip, emotions_from_va, neutral_estimate
from .selfreport import SelfReport, fuse

if TYPE_CHECKING:
    from .eeg import EegReading

__all__ = ["infer", "eeg_source", "RELIABILITY"]

RELIABILITY: dict[str, tuple[float, float]] = {
    "text": (1.00, 0.60),
    "voice": (0.05, 0.60),
    "heart_personal": (0.00, 0.70),
    "heart_population": (0.00, 0.35),
    "face": (0.25, 0.15),
    "eeg_personal": (0.00, 0.40),
    "eeg_within": (0.00, 0.20),
}
_HEART_CONFIDENCE = {"rr": 0.8, "hr_series": 0.7, "manual": 0.6}


def _heart_estimate(reading: HeartReading, baseline: Optional[Baseline]) -> tuple[str, MoodEstimate]:
    arousal, personal, evidence = heart_arousal(reading, baseline)
    name = "heart_personal" if personal else "heart_population"
    return name, MoodEstimate(
        valence=0.0, arousal=arousal, emotions=emotions_from_va(0.0, arousal, 2.0),
        confidence=_HEART_CONFIDENCE[reading.source], evidence=evidence,
    )


def eeg_source(eeg: Union[str, Path, "EegReading"], baseline: Optional[Baseline] = None,
               board: str = "synthetic") -> tuple[str, MoodEstimate]:
    """(RELIABILITY name, estimate) for an EEG recording or reading, against the person's baseline if known."""
    from .eeg import infer_eeg, read_eeg_file

    reading = read_eeg_file(eeg, board) if isinstance(eeg, (str, Path)) else eeg
    personal = baseline.eeg_index if baseline is not None else None
    return ("eeg_personal" if personal is not None else "eeg_within"), infer_eeg(reading, personal)


def infer(
    text: Optional[str] = None,
    self_report: Optional[SelfReport] = None,
    heart_rate: Optional[float] = None,
    rr: Union[str, Path, Sequence[float], None] = None,
    voice: Union[str, Path, None] = None,
    baseline: Optional[Baseline] = None,
    now: Optional[datetime] = None,
    image: Union[str, Path, bytes, None] = None,
    eeg: Union[str, Path, "EegReading", None] = None,
    eeg_board: str = "synthetic",
    estimates: Sequence[tuple[str, MoodEstimate]] = (),
) -> MoodEstimate:
    """Fuse all given inputs (see the module docstring).

    heart_rate: beats per minute (25-240). rr: a CSV path (see `heart`) or a
    sequence of RR intervals in ms. voice: an audio file path. image: a photo
    (path or bytes) for the facial-expression reading. eeg: a BrainFlow
    recording (path, recorded with `eeg_board`) or an `EegReading`; its
    baseline is `baseline.eeg_index`. estimates: readings inferred earlier, as
    (source name in RELIABILITY, estimate) pairs. Bad inputs raise InputError;
    nothing given gives neutral with confidence 0.
    """
    sources: list[tuple[str, MoodEstimate]] = []
    if text is not None and text.strip():
        from .text import infer_text

        sources.append(("text", infer_text(text)))
    if voice is not None:
        from .voice import infer_voice

        sources.append(("voice", infer_voice(voice)))
    if rr is not None:
        reading = read_heart_file(rr) if isinstance(rr, (str, Path)) else reading_from_rr(list(rr))
        sources.append(_heart_estimate(reading, baseline))
    if heart_rate is not None:
        reading = HeartReading(hr=check_bpm(heart_rate), source="manual", beats=1)
        sources.append(_heart_estimate(reading, baseline))
    if image is not None:
        from .face import infer_face

        sources.append(("face", infer_face(image)))  # no face: confidence 0, evidence says so
    if eeg is not None:
        sources.append(eeg_source(eeg, baseline, eeg_board))
    for name, est in estimates:
        if name not in RELIABILITY:
            raise ValueError(f"unknown mood source {name!r}; known: {sorted(RELIABILITY)}")
        sources.append((name, est))

    if not sources:
        inferred = neutral_estimate("nothing to infer from", source="fusion")
    else:
        inferred = _combine(sources)
    return fuse(inferred, self_report, now)


def _combine(sources: list[tuple[str, MoodEstimate]]) -> MoodEstimate:
    evidence: list[Evidence] = []
    wv = [RELIABILITY[n][0] * e.confidence for n, e in sources]
    wa = [RELIABILITY[n][1] * e.confidence for n, e in sources]
    sv, sa = sum(wv), sum(wa)
    valence = sum(w * e.valence for w, (_, e) in zip(wv, sources)) / sv if sv > 0 else 0.0
    arousal = sum(w * e.arousal for w, (_, e) in zip(wa, sources)) / sa if sa > 0 else 0.0
    miss = 1.0
    for (name, est), a, b in zip(sources, wv, wa):
        evidence.extend(est.evidence)
        if len(sources) > 1:
            evidence.append(Evidence(
                source="fusion",
                detail=f"{name}: valence share {a / sv if sv else 0:.2f}, arousal share {b / sa if sa else 0:.2f}",
                valence_delta=est.valence, arousal_delta=est.arousal, weight=round(max(a, b), 3),
            ))
        miss *= 1 - est.confidence * max(RELIABILITY[name])
    # the text classifier knows more about which feeling than a point does; keep its share
    text_est = next((e for n, e in sources if n == "text"), None)
    point = emotions_from_va(valence, arousal)
    if text_est is not None:
        i = [n for n, _ in sources].index("text")
        share = 0.5 * ((wv[i] / sv if sv else 0) + (wa[i] / sa if sa else 0))
        emotions = {e: share * text_est.emotions[e] + (1 - share) * point[e] for e in EMOTIONS}
    else:
        emotions = point
    return MoodEstimate(valence=round(clip(valence), 4), arousal=round(clip(arousal), 4), emotions=emotions,
                        confidence=round(clip(1 - miss, 0, 0.95), 3), evidence=evidence)
