"""Write a planned piece to files: MIDI, MusicXML, WAV, OGG, piano-roll PNG, plan JSON.

MIDI is written from a copy without chord symbols (they would never end);
MusicXML keeps them. The WAV is rendered within a budget (planned length
plus a tail), trimmed to the planned length with a short fade, and
normalised to a loudness target with the peak kept below -1 dBFS.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from pydantic import BaseModel

from attune.common.errors import InputError

from .plan import MusicPlan
from .render import (SAMPLE_RATE, SynthLoader, check_soundfont, loudness, normalise, resolve_soundfont, synthesize,
                     write_audio)

__all__ = ["PieceFiles", "write_piece", "TARGET_RMS_DBFS", "MAX_PEAK_DBFS", "RENDER_TAIL_S"]

TARGET_RMS_DBFS = -20.0  # dBFS, RMS loudness target of the WAV
MAX_PEAK_DBFS = -1.0  # dBFS, the peak never goes above this
RENDER_TAIL_S = 3.0  # seconds of budget beyond the plan, for note releases
FADE_S = 0.75  # seconds of fade-out at the end of the WAV


class PieceFiles(BaseModel):
    """Where each file went (None when not asked for) and what the audio measures."""

    midi: str | None = None
    musicxml: str | None = None
    wav: str | None = None
    ogg: str | None = None
    png: str | None = None
    plan_json: str | None = None
    duration_s: float  # seconds of audio (or of MIDI when no audio was made)
    peak_dbfs: float | None = None
    loudness: float | None = None  # RMS level in dBFS (not LUFS)


def _writable(path: Path) -> Path:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"The folder {path.parent} cannot be created ({exc.strerror}). "
                         "Choose a folder you can write to.") from None
    if not os.access(path.parent, os.W_OK) or path.is_dir():
        raise InputError(f"The file {path} cannot be written. Choose a folder you can write to.")
    return path


def write_piece(
    plan: MusicPlan,
    out_dir: str | os.PathLike | None = None,
    *,
    stem: str = "piece",
    midi: str | os.PathLike | None = None,
    musicxml: str | os.PathLike | None = None,
    wav: str | os.PathLike | None = None,
    ogg: str | os.PathLike | None = None,
    png: str | os.PathLike | None = None,
    plan_json: str | os.PathLike | None = None,
    soundfont: str | os.PathLike | None = None,
    score=None,
) -> PieceFiles:
    """Compose ``plan`` and write its files.

    With ``out_dir``, every file is written there as ``stem.<ext>`` unless an
    explicit path is given. Without it, only the explicit paths are written
    (a MIDI file is still made in a temporary folder when audio is wanted).
    """
    from .composer import arrange
    from .score import add_chord_symbols, midi_copy, to_score

    paths: dict[str, Path | None] = {"midi": midi, "musicxml": musicxml, "wav": wav, "ogg": ogg,
                                     "png": png, "plan_json": plan_json}
    exts = {"midi": "mid", "musicxml": "musicxml", "wav": "wav", "ogg": "ogg", "png": "png", "plan_json": "json"}
    for k, v in list(paths.items()):
        if v is None and out_dir is not None:
            v = Path(out_dir) / f"{stem}.{exts[k]}"
        paths[k] = _writable(Path(v)) if v is not None else None
    wants_audio = paths["wav"] is not None or paths["ogg"] is not None
    sf2 = check_soundfont(resolve_soundfont(soundfont)) if wants_audio else None
    synth = SynthLoader(sf2) if wants_audio else None  # the soundfont loads while the score is built

    arrangement = None
    if score is None:  # chord symbols join after the MIDI is written, which saves copying the score
        arrangement = arrange(plan)
        score = to_score(plan, arrangement, chord_symbols=False)
    tmp = None
    midi_path = paths["midi"]
    if midi_path is None and (wants_audio or paths["png"] is not None):
        tmp = tempfile.TemporaryDirectory(prefix="attune-")
        midi_path = Path(tmp.name) / "piece.mid"
    try:
        if midi_path is not None:
            _write_m21(midi_copy(score) if arrangement is None else score, "midi", midi_path)
        if paths["musicxml"] is not None:
            if arrangement is not None:
                add_chord_symbols(score, arrangement)
            _write_m21(score, "musicxml", paths["musicxml"])
        if paths["plan_json"] is not None:
            _write_text(paths["plan_json"], plan.model_dump_json(indent=2))
        result = PieceFiles(duration_s=plan.duration_s,
                            **{k: (str(v) if v is not None else None) for k, v in paths.items()})
        if paths["png"] is not None:
            from .pianoroll import piano_roll

            piano_roll(midi_path, paths["png"], title=plan.summary())
        if wants_audio:
            samples = _audio(plan, midi_path, synth)
            for kind in ("wav", "ogg"):
                if paths[kind] is not None:
                    write_audio(samples, paths[kind])
            peak, rms = loudness(samples)
            result.duration_s = round(len(samples) / SAMPLE_RATE, 4)
            result.peak_dbfs, result.loudness = peak, rms
        return result
    finally:
        if synth is not None:
            synth.close()
        if tmp is not None:
            tmp.cleanup()


def _audio(plan: MusicPlan, midi_path: Path, synth: "SynthLoader"):
    import numpy as np

    samples, _ = synthesize(midi_path, synth.soundfont, plan.duration_s + RENDER_TAIL_S, synth=synth.take())
    frames = int(round(plan.duration_s * SAMPLE_RATE))
    if len(samples) < frames:
        samples = np.concatenate([samples, np.zeros((frames - len(samples), 2), dtype=np.float32)])
    samples = samples[:frames].copy()
    fade = min(frames, int(FADE_S * SAMPLE_RATE))
    if fade:
        samples[-fade:] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    return normalise(samples, TARGET_RMS_DBFS, MAX_PEAK_DBFS)


def _write_m21(score, fmt: str, path: Path) -> None:
    try:
        score.write(fmt, fp=str(path))
    except OSError as exc:
        raise InputError(f"The file {path} cannot be written ({exc.strerror}). "
                         "Choose a folder you can write to.") from None


def _write_text(path: Path, text: str) -> None:
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"The file {path} cannot be written ({exc.strerror}). "
                         "Choose a folder you can write to.") from None
