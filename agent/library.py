"""The patient's music library: every piece heard, favourites, replay, variations, wind-down playlists.

A piece is the store's encrypted record (plan, files, why-this-music);
ratings point at it by id. ``library`` lists one patient's pieces newest
first with what their ratings before and after showed; ``replay`` hands back
the same stored file (nothing is rendered again) and records a listen;
``more_like_this`` composes the stored plan again with a new seed (same key,
tempi, arc, instruments and limits; new notes); ``wind_down_playlist`` makes
three pieces on a falling arousal arc and joins them into one MP3;
``helped`` orders pieces by measured change (before against after; an
after-only rating is not an improvement, and liking is shown apart) for the
clinician console. A piece id of
another patient is refused with the same words as a missing one.

What it leaves out: deleting single pieces (erasure is per patient), rating
a playlist as a whole, and sharing pieces between patients.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from .context import AppContext, SessionRef
from attune.common.errors import InputError, StorageError
from .learning import measured_change
from .music_step import choose_instruments, session_limits, store_piece
from .policy import SessionState

__all__ = ["LibraryEntry", "Playlist", "library", "helped", "set_favourite", "replay", "more_like_this",
           "wind_down_playlist", "PLAYLIST_PIECES"]

PLAYLIST_PIECES = 3  # pieces in a wind-down
WIND_DOWN_AROUSAL = -0.8  # arousal (-1 calm .. 1 activated) where a wind-down ends
WIND_DOWN_MIN_DROP = 0.45  # arousal a wind-down falls at least, even from an already calm start
DEFAULT_START = (0.0, 0.2)  # valence, arousal when no mood has been sensed yet: neutral, a little awake
CEILING_STEP_BPM = 3.0  # beats per minute: how far the tempo ceiling drops when a piece did not end slower
GAP_S = 2.0  # seconds of silence between pieces in the joined playlist file
RATING_SCALES = {"valence": "sam_valence", "arousal": "sam_arousal", "suds": "suds"}  # change key -> rating key


@dataclass(frozen=True)
class LibraryEntry:
    """One piece as the library shows it; ``change`` is after minus before (SAM 1-9, SUDS 0-10)."""

    id: str
    created_at: datetime
    session_id: str | None
    key: str  # "C major", or "C major → A minor" when the mode turns
    tempo_bpm: tuple[float, float] | None  # slowest and fastest phrase tempo, beats per minute
    end_bpm: float | None  # tempo of the last phrase, beats per minute
    duration_s: float | None  # seconds
    instruments: dict[str, str]  # role -> instrument
    start: tuple[float, float] | None  # valence, arousal in [-1, 1]
    target: tuple[float, float] | None
    target_words: str
    why: list[str]
    favourite: bool
    files: dict[str, str | None]  # wav, ogg, midi, musicxml, png
    pre: dict | None  # the latest rating pair around this piece
    post: dict | None
    change: dict[str, float]  # valence, arousal, suds
    benefit: float | None  # -1 .. +1, mean measured change over listens rated before and after (0: none)
    times_rated: int
    parent_id: str | None = None  # set on a "more like this" piece
    playlist: dict | None = None  # {"id", "name", "position", "of", "file"} on a playlist piece

    def __hash__(self) -> int:
        # the dict fields are not hashable; equal entries have equal reprs (Gradio hashes its state)
        return hash(repr(self))

    @property
    def audio(self) -> str | None:
        """The stored audio file (OGG when made, else WAV)."""
        return self.files.get("ogg") or self.files.get("wav")


@dataclass(frozen=True)
class Playlist:
    id: str
    name: str
    file: str  # the joined audio, one file to download
    pieces: list[LibraryEntry]  # in listening order

    @property
    def end_bpms(self) -> list[float | None]:
        return [p.end_bpm for p in self.pieces]


# ---------------------------------------------------------------- reading

def _pairs(ratings: list[dict]) -> dict[str, list[tuple[dict, dict]]]:
    """Each "after" rating with the "before" rating it follows, per piece.

    A "before" rating given while no piece was playing yet (no piece id) counts
    for the next piece rated "after" in the same session.
    """
    open_pre: dict[tuple, dict] = {}
    out: dict[str, list[tuple[dict, dict]]] = {}
    for r in ratings:
        where = (r.get("session_id"), r.get("piece_id"))
        if r.get("phase") == "pre":
            open_pre[where] = r
        elif r.get("phase") == "post" and r.get("piece_id"):
            pre = open_pre.pop(where, None) or open_pre.pop((where[0], None), None) or {}
            out.setdefault(r["piece_id"], []).append((pre, r))
    return out


def _benefit(pre: dict, post: dict) -> float | None:
    return measured_change(pre, post)  # -1..+1; None for an after-only rating (not an improvement)


def _summary(plan: dict) -> dict[str, Any]:
    """Key, tempi and moods of a stored plan, tolerant of old or partial records."""
    segs = [s for s in plan.get("segments") or [] if isinstance(s, dict)]
    keys = [f"{s['tonic'].replace('-', 'b')} {s['mode']}" for s in segs if s.get("tonic") and s.get("mode")]
    keys = list(dict.fromkeys(keys))
    bpms = [float(s["bpm"]) for s in segs if s.get("bpm")]

    def mood(name: str) -> tuple[float, float] | None:
        m = plan.get(name) or {}
        return (m["valence"], m["arousal"]) if "valence" in m and "arousal" in m else None

    return {"key": " → ".join(keys[:1] + keys[-1:]) if len(keys) > 1 else "".join(keys),
            "tempo_bpm": (min(bpms), max(bpms)) if bpms else None, "end_bpm": bpms[-1] if bpms else None,
            "duration_s": plan.get("duration_s"), "instruments": dict(plan.get("instruments") or {}),
            "start": mood("start"), "target": mood("target")}


def _entry(piece: dict, pairs: list[tuple[dict, dict]]) -> LibraryEntry:
    plan = _summary(piece.get("plan") or {})
    pre, post = pairs[-1] if pairs else (None, None)
    change = {}
    if pre and post:
        for name, key in RATING_SCALES.items():
            if pre.get(key) is not None and post.get(key) is not None:
                change[name] = float(post[key]) - float(pre[key])
    benefits = [b for b in (_benefit(a, b) for a, b in pairs) if b is not None]
    why = piece.get("why") or []
    return LibraryEntry(
        id=piece["id"], created_at=piece["created_at"], session_id=piece.get("session_id"),
        key=plan["key"], tempo_bpm=plan["tempo_bpm"], end_bpm=plan["end_bpm"],
        duration_s=piece.get("seconds") or plan["duration_s"], instruments=plan["instruments"],
        start=plan["start"], target=plan["target"], target_words=piece.get("target_words") or "",
        why=[why] if isinstance(why, str) else list(why), favourite=bool(piece.get("favourite")),
        files={k: piece.get(k) for k in ("wav", "ogg", "midi", "musicxml", "png")},
        pre=pre, post=post, change=change,
        benefit=round(sum(benefits) / len(benefits), 3) if benefits else None, times_rated=len(pairs),
        parent_id=piece.get("parent_id"), playlist=piece.get("playlist"))


def _entries(store, patient_id: str, actor: str) -> list[LibraryEntry]:
    pairs = _pairs(store.ratings(patient_id, actor=actor))
    pieces = store.pieces(patient_id, actor=actor)
    return [_entry(p, pairs.get(p["id"], [])) for p in reversed(pieces)]


def _own(ctx: AppContext, ref: SessionRef, piece_id: str) -> dict:
    if not (piece_id or "").strip():
        raise InputError("Choose a piece first.")
    return ctx.store.piece(ref.patient_id, piece_id.strip())  # refuses another patient's piece


def library(ctx: AppContext, ref: SessionRef) -> list[LibraryEntry]:
    """Every piece this patient has heard, newest first, with its ratings."""
    return _entries(ctx.store, ref.patient_id, "patient")


def _by_id(ctx: AppContext, ref: SessionRef) -> dict[str, LibraryEntry]:
    return {e.id: e for e in library(ctx, ref)}


def helped(store, patient_id: str, actor: str) -> list[LibraryEntry]:
    """One patient's pieces for a clinician: most benefit first, unrated pieces last (newest first)."""
    entries = _entries(store, patient_id, actor)
    rated = sorted((e for e in entries if e.benefit is not None), key=lambda e: -e.benefit)
    return rated + [e for e in entries if e.benefit is None]


# ---------------------------------------------------------------- actions

def set_favourite(ctx: AppContext, ref: SessionRef, piece_id: str, on: bool) -> bool:
    """Mark or unmark a favourite (kept in the database, so it survives a restart)."""
    piece = _own(ctx, ref, piece_id)
    ctx.store.set_favourite(ref.patient_id, piece["id"], bool(on))
    return bool(on)


def _session(ctx: AppContext, ref: SessionRef) -> tuple[SessionState, Any]:
    row = ctx.store.session(ref.session_id, ref.patient_id)
    return SessionState.model_validate(row["state"] or {}), ctx.profile(row["profile"])


def _now_playing(ctx: AppContext, ref: SessionRef, piece: dict) -> None:
    """Make ``piece`` the session's current one: the next rating and "why this music?" are about it."""
    with ctx.store.session_lock(ref.session_id):
        _set_now_playing(ctx, ref, piece)


def _set_now_playing(ctx: AppContext, ref: SessionRef, piece: dict) -> None:
    row = ctx.store.session(ref.session_id, ref.patient_id)
    state = row["state"] or {}
    plan = _summary(piece.get("plan") or {})
    state["last_piece"] = {"piece_id": piece.get("piece_id") or piece.get("id"), "wav": piece.get("wav"),
                           "why": piece.get("why"), "breaths_per_minute": piece.get("breaths_per_minute"),
                           "seconds": piece.get("seconds"), "target_words": piece.get("target_words"),
                           "end_bpm": plan["end_bpm"]}
    ctx.store.save_session_state(ref.session_id, ref.patient_id, state)


def replay(ctx: AppContext, ref: SessionRef, piece_id: str) -> LibraryEntry:
    """The same stored piece again (no new rendering); the listen is recorded."""
    piece = _own(ctx, ref, piece_id)
    if not any(piece.get(k) and Path(piece[k]).is_file() for k in ("ogg", "wav")):
        raise StorageError("The audio of this piece is no longer on this computer. "
                           "Use \"More like this\" to make it again.")
    ctx.store.append_event(ref.session_id, ref.patient_id, "listen", {"piece_id": piece["id"], "how": "replay"},
                           actor="patient")
    _now_playing(ctx, ref, piece)
    return _entry(piece, _pairs(ctx.store.ratings(ref.patient_id)).get(piece["id"], []))


def _plan_of(piece: dict):
    from pydantic import ValidationError

    from attune.tools.music import MusicPlan

    try:
        return MusicPlan.model_validate(piece.get("plan") or {})
    except ValidationError:
        raise InputError("This piece was made by an older version of Attune and cannot be varied; "
                         "ask for a new piece instead.") from None


def _outside(plan, limits) -> list[str]:
    """How a stored plan breaks the current music limits (empty when it fits)."""
    problems = []
    bpms = [t for s in plan.segments for t in [s.bpm, *s.bar_bpm]]
    if min(bpms) < limits.min_bpm - 0.01 or max(bpms) > limits.max_bpm + 0.01:
        problems.append(f"tempo {min(bpms):.0f}-{max(bpms):.0f} BPM (allowed {limits.min_bpm:g}-{limits.max_bpm:g})")
    loudest = max(s.velocity for s in plan.segments)
    if loudest > limits.max_velocity:
        problems.append(f"loudness {loudest} (ceiling {limits.max_velocity})")
    barred = sorted({n for n in plan.instruments.values() if not limits.is_permitted(n)})
    if barred:
        problems.append(f"instruments {', '.join(barred)}")
    return problems


def _notes(plan) -> list[tuple]:
    from attune.tools.music.composer import arrange

    return [(e.part, e.offset, e.length, e.pitches) for e in arrange(plan).events]


def more_like_this(ctx: AppContext, ref: SessionRef, piece_id: str, *, seed: int | None = None) -> LibraryEntry:
    """A new piece from the same plan (key, tempi, arc, instruments, limits) with a new seed: new notes."""
    parent = _own(ctx, ref, piece_id)
    plan = _plan_of(parent)
    _, profile = _session(ctx, ref)
    problems = _outside(plan, profile.music)
    if problems:
        raise InputError("That piece no longer fits the music settings your care team chose ("
                         + "; ".join(problems) + "). Ask Attune for a new piece instead.")
    rng = random.Random(seed)
    old = _notes(plan)
    for _ in range(8):  # a new seed nearly always changes the notes; make sure
        child = plan.model_copy(update={"seed": rng.randrange(1_000_000)})
        if child.seed != plan.seed and _notes(child) != old:
            break
    else:  # pragma: no cover - eight seeds with identical notes would be a composer bug
        raise InputError("A different version of this piece could not be made; ask for a new piece instead.")
    made = parent["created_at"]
    why = [f"More like the piece from {made:%d %b %Y}: the same key, tempi, instruments and journey, "
           "with a new melody and harmony."] + child.explain()
    record = store_piece(ctx, ref, child, why, parent_id=parent["id"], choice=parent.get("choice"),
                         context=parent.get("context"), target_words=parent.get("target_words"),
                         breaths_per_minute=parent.get("breaths_per_minute"), sources=parent.get("sources") or [])
    _now_playing(ctx, ref, record)
    return _by_id(ctx, ref)[record["piece_id"]]


# ---------------------------------------------------------------- wind-down

def _current_mood(ctx: AppContext, ref: SessionRef) -> tuple[float, float]:
    """The latest sensed mood of this session, else of this patient, else ``DEFAULT_START``."""
    for session_id in (ref.session_id, None):
        for m in reversed(ctx.store.moods(ref.patient_id, session_id)):
            if isinstance(m.get("valence"), (int, float)) and isinstance(m.get("arousal"), (int, float)):
                return float(m["valence"]), float(m["arousal"])
    return DEFAULT_START


def _wind_down_plans(start: tuple[float, float], end: tuple[float, float], seconds: float, limits,
                     instruments: list[str] | None, rng: random.Random) -> list:
    """Three plans, each starting where the last ended, each ending slower (within ``limits``)."""
    from attune.tools.music import plan_music
    from attune.tools.music.plan import KEY_PAIRS

    tonics = KEY_PAIRS[rng.randrange(len(KEY_PAIRS))]  # one key for the whole wind-down
    points = [(round(start[0] + (end[0] - start[0]) * k / PLAYLIST_PIECES, 3),
               round(start[1] + (end[1] - start[1]) * k / PLAYLIST_PIECES, 3)) for k in range(PLAYLIST_PIECES + 1)]
    plans: list = []
    ceiling = limits.max_bpm
    for k in range(PLAYLIST_PIECES):
        while True:
            capped = limits.model_copy(update={"max_bpm": ceiling})
            plan = plan_music(points[k], points[k + 1], seconds, limits=capped, seed=rng.randrange(1_000_000),
                              instruments=instruments, tonics=tonics)
            slower = not plans or plan.segments[-1].bpm < plans[-1].segments[-1].bpm
            if slower or ceiling <= limits.min_bpm:
                break
            # fitting whole phrases to the length stretched the tempo back up: lower the ceiling
            ceiling = max(limits.min_bpm, ceiling - CEILING_STEP_BPM)
        plans.append(plan)
        ceiling = plan.segments[-1].bpm  # the next piece never starts faster than this one ends
    return plans


def wind_down_playlist(ctx: AppContext, ref: SessionRef, *, seconds: float | None = None) -> Playlist:
    """Three pieces from the current mood down to calm, slower each time; stored and joined into one file.

    The download is one continuous MP3 (WAV where this libsndfile cannot
    write MP3): it plays with one tap on any phone or computer, needs no
    unzipping or playlist support, runs on without a tap between pieces (eyes
    closed, in bed), and is about a tenth of the WAVs' size. Each piece stays
    in the library with its own files and reasons.
    """
    from attune.tools.music.plan import Mood, mood_words

    state, profile = _session(ctx, ref)
    limits, avoid = session_limits(profile, state.avoid_instruments)
    start = _current_mood(ctx, ref)
    end = (profile.target.valence, max(-1.0, min(WIND_DOWN_AROUSAL, start[1] - WIND_DOWN_MIN_DROP)))
    seed = random.Random().randrange(1_000_000)
    memory = ctx.store.patient_data(ref.patient_id)
    choice, instruments = choose_instruments(memory, "calming", limits, avoid, seed)
    plans = _wind_down_plans(start, end, float(seconds or profile.piece_seconds), limits, instruments,
                             random.Random(seed))

    playlist_id = str(uuid.uuid4())
    name = f"Wind-down, {datetime.now():%d %b %Y, %H:%M}"
    folder = ctx.settings.pieces_dir / ref.patient_id
    target = folder / f"winddown-{playlist_id[:8]}.{_joined_format()}"
    records = []
    for k, plan in enumerate(plans):
        begin = "where you are now" if k == 0 else "where the last piece ended"
        end_bpm = plan.segments[-1].bpm
        pace = ("" if k == 0 else ", slower than the piece before" if end_bpm < plans[k - 1].segments[-1].bpm
                else ", as slow as your music settings allow")
        why = [f"Wind-down, piece {k + 1} of {len(plans)}: it starts {begin} ({mood_words(plan.start)}) and "
               f"ends {mood_words(plan.target)}, at {end_bpm:.0f} beats per minute{pace}."]
        if profile.breaths_per_minute:
            why.append("No breathing pacing here: a fixed breathing tempo would stop the music slowing "
                       "from piece to piece.")
        why += plan.explain()
        records.append(store_piece(ctx, ref, plan, why, choice=choice, context="calming",
                                   target_words=mood_words(Mood(valence=end[0], arousal=end[1])),
                                   playlist={"id": playlist_id, "name": "Wind-down", "position": k + 1,
                                             "of": len(plans), "file": str(target)}))
    _join([r["wav"] for r in records], target, name, plans)
    entries = _by_id(ctx, ref)
    return Playlist(id=playlist_id, name=name, file=str(target), pieces=[entries[r["piece_id"]] for r in records])


def _joined_format() -> str:
    import soundfile as sf

    return "mp3" if "MP3" in sf.available_formats() else "wav"


def _join(wavs: list[str], target: Path, name: str, plans: list) -> None:
    """One file: the pieces in order with ``GAP_S`` of silence between them."""
    import numpy as np
    import soundfile as sf

    from attune.tools.music.render import SAMPLE_RATE, write_audio

    parts = []
    for i, path in enumerate(wavs):
        samples, rate = sf.read(path, dtype="float32", always_2d=True)
        if rate != SAMPLE_RATE:  # pragma: no cover - every piece is rendered at SAMPLE_RATE
            raise StorageError(f"The piece {path} has an unexpected sample rate ({rate} Hz).")
        if i:
            parts.append(np.zeros((int(GAP_S * SAMPLE_RATE), samples.shape[1]), dtype=np.float32))
        parts.append(samples)
    tempi = " -> ".join(f"{p.segments[-1].bpm:.0f}" for p in plans)
    write_audio(np.concatenate(parts), target,
                tags={"title": name, "artist": "Attune",
                      "comment": f"{len(plans)} pieces, each slower and calmer; ending tempi {tempi} BPM."})
