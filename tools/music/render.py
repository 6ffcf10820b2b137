"""Bounded MIDI-to-audio rendering with FluidSynth, and loudness helpers.

FluidSynth 2.3.1 never finishes a file whose note never ends (PITFALLS.md),
so every render has a sample budget: it stops when the player is done or the
budget is spent, whichever comes first, and sends all-notes-off at the end.
The soundfont is checked before FluidSynth sees it so that a missing or
corrupt file gives a clear ``SoundfontError``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import BaseModel

from attune.common.errors import InputError, SoundfontError

__all__ = [
    "DEFAULT_SOUNDFONT",
    "SAMPLE_RATE",
    "RenderInfo",
    "check_soundfont",
    "loudness",
    "normalise",
    "render_midi",
    "resolve_soundfont",
    "synthesize",
]

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
SAMPLE_RATE = 44100  # samples per second
SYNTH_GAIN = 0.4  # FluidSynth master gain; 0.8 clipped (PITFALLS.md)
BLOCK = 8192  # frames per get_samples call: big blocks render faster
MIDI_CHANNELS = 16
WRITE_BLOCK = 16384  # frames per soundfile write


class RenderInfo(BaseModel):
    wav: str
    seconds: float  # length of the written audio, seconds
    budget_s: float  # the most audio the renderer was allowed to make, seconds
    finished: bool  # True if the MIDI player ended before the budget ran out
    peak_dbfs: float
    rms_dbfs: float


def resolve_soundfont(soundfont: str | os.PathLike | None = None) -> Path:
    """The soundfont to use: the argument, else ``ATTUNE_SOUNDFONT``, else Debian's FluidR3_GM."""
    return Path(soundfont or os.environ.get("ATTUNE_SOUNDFONT") or DEFAULT_SOUNDFONT)


def check_soundfont(path: str | os.PathLike) -> Path:
    """Raise ``SoundfontError`` unless ``path`` is a readable SoundFont 2 file."""
    path = Path(path)
    hint = ("Install Debian's fluid-soundfont-gm package (apt-get install --no-install-recommends "
            "fluid-soundfont-gm) or set ATTUNE_SOUNDFONT to a .sf2 file.")
    if not path.is_file():
        raise SoundfontError(f"The soundfont {path} does not exist. {hint}")
    try:
        with path.open("rb") as fh:
            head = fh.read(12)
    except OSError as exc:
        raise SoundfontError(f"The soundfont {path} cannot be read ({exc.strerror}). {hint}") from None
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:12] != b"sfbk":
        raise SoundfontError(f"The file {path} is not a SoundFont 2 file (it may be damaged). {hint}")
    return path


def _import_fluidsynth():
    """pyfluidsynth prints where it found the library when CI is set; keep stdout for JSON."""
    import contextlib
    import sys

    with contextlib.redirect_stdout(sys.stderr):
        import fluidsynth
    return fluidsynth


def _new_synth(fluidsynth, sf2: Path):
    """A FluidSynth synthesizer with the soundfont loaded (0.2 s for the 140 MB General MIDI font)."""
    # two rendering threads roughly halve the time on a multi-core machine
    cores = max(1, min(4, os.cpu_count() or 1))
    synth = fluidsynth.Synth(gain=SYNTH_GAIN, samplerate=float(SAMPLE_RATE), **{"synth.cpu-cores": cores})
    if synth.sfload(str(sf2)) < 0:
        synth.delete()
        raise SoundfontError(f"FluidSynth could not load the soundfont {sf2}; the file may be "
                             "damaged. Reinstall Debian's fluid-soundfont-gm package.")
    return synth


class SynthLoader:
    """Loads a synthesizer and its soundfont in a background thread (FluidSynth's C code runs
    without the GIL, so it overlaps composing the score); ``take`` waits for it."""

    def __init__(self, soundfont: Path) -> None:
        import threading

        self.soundfont = soundfont
        self._synth = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._load, name="attune-soundfont", daemon=True)
        self._thread.start()

    def _load(self) -> None:
        try:
            self._synth = _new_synth(_import_fluidsynth(), self.soundfont)
        except BaseException as exc:  # noqa: BLE001 - raised again in the caller's thread by take()
            self._error = exc

    def take(self):
        """The loaded synthesizer (the caller owns it from now on)."""
        self._thread.join()
        if self._error is not None:
            raise self._error
        synth, self._synth = self._synth, None
        return synth

    def close(self) -> None:
        """Free a synthesizer nobody took (the piece failed before rendering)."""
        self._thread.join()
        if self._synth is not None:
            self._synth.delete()
            self._synth = None


def synthesize(midi_path: str | os.PathLike, soundfont: str | os.PathLike | None, max_seconds: float,
               synth=None):
    """Render ``midi_path`` to float32 stereo samples in [-1, 1], at most ``max_seconds`` long.

    ``synth`` is an already loaded synthesizer (``SynthLoader.take``) that this call uses and deletes.
    Returns ``(samples, finished)``; ``samples`` has shape (frames, 2).
    """
    fluidsynth = _import_fluidsynth()
    import numpy as np

    midi_path = Path(midi_path)
    try:
        if not midi_path.is_file():
            raise InputError(f"The MIDI file {midi_path} does not exist.")
        if not max_seconds or max_seconds <= 0:
            raise InputError(f"The render budget must be a positive number of seconds; got {max_seconds!r}.")
        if synth is None:
            synth = _new_synth(fluidsynth, check_soundfont(resolve_soundfont(soundfont)))
    except BaseException:
        if synth is not None:
            synth.delete()
        raise
    budget = int(max_seconds * SAMPLE_RATE)  # frames
    try:
        if synth.play_midi_file(str(midi_path)) != fluidsynth.FLUID_OK:
            raise InputError(f"The MIDI file {midi_path} could not be read by FluidSynth.")
        blocks, done = [], 0
        finished = False
        while done < budget:
            if fluidsynth.fluid_player_get_status(synth.player) != fluidsynth.FLUID_PLAYER_PLAYING:
                finished = True
                break
            n = min(BLOCK, budget - done)
            blocks.append(synth.get_samples(n))
            done += n
        fluidsynth.fluid_player_stop(synth.player)
        for ch in range(MIDI_CHANNELS):
            synth.all_notes_off(ch)
        fluidsynth.delete_fluid_player(synth.player)
    finally:
        synth.delete()
    if not blocks:
        return np.zeros((0, 2), dtype=np.float32), finished
    pcm = np.concatenate(blocks).astype(np.float32) / 32768.0
    return pcm.reshape(-1, 2), finished


def loudness(samples) -> tuple[float, float]:
    """(peak dBFS, RMS dBFS) of float samples; -inf-safe (silence gives -120)."""
    import numpy as np

    if samples.size == 0:
        return -120.0, -120.0
    peak = float(np.max(np.abs(samples)))
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return (round(float(20 * np.log10(max(peak, 1e-6))), 2), round(float(20 * np.log10(max(rms, 1e-6))), 2))


def normalise(samples, target_rms_dbfs: float = -20.0, max_peak_dbfs: float = -1.0):
    """Scale to the RMS target, but never let the peak rise above ``max_peak_dbfs``."""
    peak_db, rms_db = loudness(samples)
    if rms_db <= -119:
        return samples
    gain_db = min(target_rms_dbfs - rms_db, max_peak_dbfs - 0.1 - peak_db)
    return (samples * (10 ** (gain_db / 20))).astype("float32")


def render_midi(midi_path: str | os.PathLike, wav_path: str | os.PathLike,
                soundfont: str | os.PathLike | None = None, max_seconds: float = 60.0) -> RenderInfo:
    """Render any MIDI file to a 16-bit WAV, never longer than ``max_seconds``.

    The audio is peak-limited to -1 dBFS (no loudness target: use ``write_piece``
    for finished pieces).
    """
    import soundfile as sf

    samples, finished = synthesize(midi_path, soundfont, max_seconds)
    peak_db, _ = loudness(samples)
    if peak_db > -1.0:
        samples = normalise(samples, target_rms_dbfs=0.0)
    write_audio(samples, wav_path, sf)
    peak_db, rms_db = loudness(samples)
    return RenderInfo(wav=str(wav_path), seconds=len(samples) / SAMPLE_RATE, budget_s=max_seconds,
                      finished=finished, peak_dbfs=peak_db, rms_dbfs=rms_db)


def write_audio(samples, path: str | os.PathLike, sf=None, tags: dict[str, str] | None = None) -> None:
    """Write samples (WAV, OGG or MP3 by suffix); an unwritable path raises ``InputError``.

    ``tags`` sets text metadata the format supports (``title``, ``artist``, ``comment``, ...).
    """
    if sf is None:
        import soundfile as sf
    path = Path(path)
    kwargs = {"subtype": "PCM_16"} if path.suffix.lower() == ".wav" else {}
    if path.suffix.lower() == ".ogg":
        kwargs = {"format": "OGG", "subtype": "VORBIS"}
    elif path.suffix.lower() == ".mp3":  # libsndfile 1.1+ encodes MP3 (LAME), about 128 kbit/s
        kwargs = {"format": "MP3", "subtype": "MPEG_LAYER_III"}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # libsndfile's Vorbis encoder can crash on one huge write: write in blocks
        with sf.SoundFile(str(path), "w", SAMPLE_RATE, samples.shape[1], **kwargs) as fh:
            for name, value in (tags or {}).items():
                setattr(fh, name, value)
            for i in range(0, len(samples), WRITE_BLOCK):
                fh.write(samples[i:i + WRITE_BLOCK])
    except (OSError, RuntimeError, sf.LibsndfileError) as exc:
        raise InputError(f"The audio file {path} cannot be written ({exc}). Choose a folder you can write to.") from None
