"""File-level tests for attune.tools.music: read back the MIDI, WAV and MusicXML that were written."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from attune.common.errors import InputError, SoundfontError
from attune.tools.music import MusicLimits, compose, plan_music, render_midi, write_piece
from attune.tools.music.cli import register
from attune.tools.music.midiinfo import read_midi
from attune.tools.music.plan import MAX_TEMPO_STEP_BPM
from attune.tools.music.render import DEFAULT_SOUNDFONT

pytestmark = pytest.mark.skipif(not Path(DEFAULT_SOUNDFONT).exists(), reason="needs fluid-soundfont-gm")

ARCS = {
    "sad-low-to-calm": ((-0.7, -0.5), (0.3, -0.6)),
    "anxious-high-to-calm": ((-0.5, 0.8), (0.3, -0.6)),
    "tired-to-energised": ((-0.2, -0.8), (0.6, 0.7)),
    "happy-steady": ((0.7, 0.3), (0.7, 0.3)),
}


@pytest.fixture(scope="module", params=list(ARCS), ids=list(ARCS))
def piece(request, tmp_path_factory):
    start, target = ARCS[request.param]
    plan = plan_music(start, target, 40, seed=3)
    out = tmp_path_factory.mktemp(request.param)
    files = write_piece(plan, out)
    return plan, files


def _tempo_at(info, t: float) -> float:
    """The tempo (BPM) in effect at ``t`` seconds."""
    return [bpm for at, bpm in info.tempos if at <= t + 1e-3][-1]


def test_midi_length_matches_plan(piece):
    plan, files = piece
    info = read_midi(files.midi)
    assert info.hanging_notes == 0
    assert abs(info.duration_s - plan.duration_s) / plan.duration_s <= 0.02


def test_midi_tempo_curve_is_monotonic_and_bounded(piece):
    plan, files = piece
    info = read_midi(files.midi)
    assert info.tempos[0][1] == pytest.approx(plan.segments[0].bpm, abs=0.05)
    # segment tempos as written (the final ritardando is a separate, deliberate slowing)
    starts = [s.start_s for s in plan.segments]
    written = [_tempo_at(info, st) for st in starts]
    steps = [b - a for a, b in zip(written, written[1:])]
    assert all(abs(s) <= MAX_TEMPO_STEP_BPM + 0.05 for s in steps)
    assert all(s >= -0.05 for s in steps) or all(s <= 0.05 for s in steps)


def test_key_of_first_and_last_phrase(piece):
    from music21 import converter

    plan, files = piece
    score = converter.parse(files.musicxml)
    for seg in (plan.segments[0], plan.segments[-1]):
        lo = sum(s.bars * s.beats_per_bar for s in plan.segments[: seg.index])
        hi = lo + seg.bars * seg.beats_per_bar
        notes = score.flatten().notes.getElementsByOffset(lo, hi, includeEndBoundary=False).stream()
        k = notes.analyze("key")
        assert f"{k.tonic.name.replace('-', 'b')} {k.mode}" == seg.key


def test_wav_has_planned_length_is_audible_and_does_not_clip(piece):
    plan, files = piece
    audio, rate = sf.read(files.wav)
    assert len(audio) / rate == pytest.approx(plan.duration_s, abs=0.01)
    peak = 20 * np.log10(np.max(np.abs(audio)))
    rms = 20 * np.log10(np.sqrt(np.mean(audio**2)))
    assert peak < -1.0
    assert rms > -30.0
    assert files.peak_dbfs < -1.0
    assert Path(files.ogg).stat().st_size > 10_000
    assert Path(files.png).stat().st_size > 5_000
    assert json.loads(Path(files.plan_json).read_text())["seed"] == 3


def test_arousal_up_is_faster_and_louder_in_the_midi(tmp_path):
    up = write_piece(plan_music((0.0, 0.0), (0.3, 0.8), 60), midi=tmp_path / "up.mid")
    down = write_piece(plan_music((0.0, 0.0), (0.3, -0.8), 60), midi=tmp_path / "down.mid")
    iu, idn = read_midi(up.midi), read_midi(down.midi)
    last_u, last_d = iu.duration_s * 0.6, idn.duration_s * 0.6
    rate_u = sum(n.start_s > last_u for n in iu.notes) / (iu.duration_s - last_u)
    rate_d = sum(n.start_s > last_d for n in idn.notes) / (idn.duration_s - last_d)
    vel_u = np.mean([n.velocity for n in iu.notes if n.start_s > last_u])
    vel_d = np.mean([n.velocity for n in idn.notes if n.start_s > last_d])
    assert _tempo_at(iu, last_u) > _tempo_at(idn, last_d) + 15
    assert rate_u > rate_d and vel_u > vel_d


@pytest.mark.parametrize("breaths", [6.0, 5.0], ids=["6-per-min", "5-per-min"])
def test_breathing_paced_phrases_last_one_breath_and_swell(tmp_path, breaths):
    plan = plan_music((-0.2, 0.3), (0.2, -0.5), 60, breaths_per_minute=breaths)
    files = write_piece(plan, midi=tmp_path / "b.mid")
    info = read_midi(files.midi)
    breath_s = 60.0 / breaths
    bpm = info.tempos[0][1]
    assert all(t[1] == pytest.approx(bpm) for t in info.tempos)
    bar_s = plan.breathing.beats_per_bar * 60.0 / bpm
    assert plan.breathing.bars_per_breath * bar_s == pytest.approx(breath_s, rel=1e-3)
    assert info.duration_s / breath_s == pytest.approx(round(info.duration_s / breath_s), abs=0.01)
    phase = [((n.start_s % breath_s) / breath_s, n.velocity) for n in info.notes]
    middle = [v for p, v in phase if 0.25 <= p < 0.75]
    edges = [v for p, v in phase if p < 0.25 or p >= 0.75]
    assert np.mean(middle) > 1.1 * np.mean(edges)


def test_same_seed_same_midi_other_seed_different(tmp_path):
    paths = []
    for i, seed in enumerate((7, 7, 8)):
        f = write_piece(plan_music((-0.3, 0.2), (0.3, -0.3), 30, seed=seed), midi=tmp_path / f"{i}.mid")
        paths.append(Path(f.midi).read_bytes())
    assert paths[0] == paths[1]
    assert paths[0] != paths[2]


def test_forbidden_instruments_never_sound(tmp_path):
    forbidden = ["piano", "cello", "warm pad", "strings", "guitar", "flute", "harp", "viola"]
    limits = MusicLimits(forbidden_instruments=forbidden)
    from attune.tools.music.limits import GM_PROGRAMS

    for start in ((-0.6, -0.6), (0.6, 0.6)):
        f = write_piece(plan_music(start, (0, 0), 20, limits=limits), midi=tmp_path / "f.mid")
        info = read_midi(f.midi)
        programs = {p for _, p in info.programs}
        assert programs and not programs & {GM_PROGRAMS[n] for n in forbidden}
        assert all(n.channel != 10 for n in info.notes)  # no percussion


def test_chord_symbols_kept_in_musicxml_only(tmp_path):
    plan = plan_music((0.2, 0.0), (0.2, 0.0), 20)
    f = write_piece(plan, midi=tmp_path / "p.mid", musicxml=tmp_path / "p.musicxml")
    assert "<harmony" in Path(f.musicxml).read_text()
    assert read_midi(f.midi).hanging_notes == 0
    assert len(list(compose(plan).recurse().getElementsByClass("ChordSymbol"))) > 0


def _stuck_midi(path: Path) -> Path:
    """One track: a piano note switched on and never off."""
    events = bytes([0x00, 0xFF, 0x51, 0x03, 0x07, 0xA1, 0x20,  # 120 BPM
                    0x00, 0xC0, 0x00,  # piano
                    0x00, 0x90, 60, 100,  # note on, no note off ever
                    0x83, 0x60, 0xFF, 0x2F, 0x00])  # end of track after 480 ticks
    track = b"MTrk" + len(events).to_bytes(4, "big") + events
    path.write_bytes(b"MThd" + (6).to_bytes(4, "big") + (0).to_bytes(2, "big") + (1).to_bytes(2, "big")
                     + (480).to_bytes(2, "big") + track)
    return path


def test_stuck_note_renders_within_budget(tmp_path):
    t0 = time.perf_counter()
    info = render_midi(_stuck_midi(tmp_path / "stuck.mid"), tmp_path / "stuck.wav", max_seconds=4.0)
    assert time.perf_counter() - t0 < 10
    assert info.seconds <= 4.0 + 1e-6
    assert sf.info(str(tmp_path / "stuck.wav")).duration <= 4.0 + 1e-6


@pytest.mark.parametrize(
    "make",
    [lambda d: d / "missing.sf2", lambda d: (d / "junk.sf2").write_bytes(b"not a soundfont" * 100) and d / "junk.sf2",
     lambda d: (d / "fake.sf2").write_bytes(b"RIFF\x10\x00\x00\x00sfbkjunkjunk") and d / "fake.sf2"],
    ids=["missing", "junk-file", "corrupt-riff"],
)
def test_bad_soundfont_is_a_soundfont_error(tmp_path, make):
    sf2 = make(tmp_path)
    with pytest.raises(SoundfontError, match="fluid-soundfont-gm") as err:
        write_piece(plan_music((0, 0), (0, 0), 10), wav=tmp_path / "x.wav", soundfont=sf2)
    assert str(sf2) in str(err.value)


def test_unwritable_output_is_an_input_error(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(InputError, match="cannot be"):
        write_piece(plan_music((0, 0), (0, 0), 10), wav=blocker / "out.wav")


def test_cli_compose_prints_plan_json(tmp_path, capsys):
    parser = argparse.ArgumentParser(prog="attune")
    register(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["compose", "--valence", "-0.4", "--arousal", "0.6", "--to-valence", "0.3",
                              "--to-arousal", "-0.5", "--seconds", "15", "--out", str(tmp_path / "o.wav"),
                              "--midi", str(tmp_path / "o.mid"), "--breaths-per-minute", "6", "--seed", "2"])
    assert args.handler(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["seed"] == 2 and plan["breathing"]["breaths_per_minute"] == 6
    assert (tmp_path / "o.wav").stat().st_size > 0 and (tmp_path / "o.mid").exists()
