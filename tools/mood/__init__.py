"""Mood inference for Attune: valence, arousal and emotions from words, voice, heart and ratings.

Public entry points: `infer` (everything fused), `infer_text`, `infer_voice`,
`fuse` with a `SelfReport`, `MoodTrack` across turns. Importing this package
loads no model: the embedding model, the fitted text head, VADER, neurokit2
and Praat load on first use. Not here: diagnosis (never), crisis screening
(attune.agent safety), music choice (attune.tools.compose).
"""

from .fusion import RELIABILITY, infer
from .heart import HeartReading, check_bpm, read_heart_file, reading_from_rr, rmssd_from_rr
from .model import EMOTIONS, Baseline, Evidence, MoodEstimate
from .selfreport import SelfReport, fuse
from .text import infer_text
from .track import Jump, MoodTrack
from .voice import infer_voice, voice_features

__all__ = [
    "EMOTIONS", "Evidence", "MoodEstimate", "Baseline",
    "infer", "infer_text", "infer_voice", "voice_features", "RELIABILITY",
    "SelfReport", "fuse", "MoodTrack", "Jump",
    "HeartReading", "check_bpm", "read_heart_file", "reading_from_rr", "rmssd_from_rr",
]
