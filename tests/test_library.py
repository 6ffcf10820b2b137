"""The music library: listing with ratings, favourites, replay, more like this, wind-down playlists.

Pieces are 20 seconds (the shortest a clinic profile allows) so the whole
file renders real audio in well under a minute.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from attune.agent import library, service
from attune.common.errors import InputError, StorageError
from attune.agent.music_step import store_piece

SECONDS = 20.0  # seconds per test piece
PROFILE = "name: default\npiece_seconds: 20\nmusic: {min_bpm: 50, max_bpm: 120, max_velocity: 100}\n"


def _context(settings, backend=None):
    from attune.agent.context import AppContext
    from attune.agent.llm import scripted_backend

    return AppContext.create(settings, backend=backend or scripted_backend())


@pytest.fixture
def lib_ctx(settings):
    (settings.data_dir / "profiles").mkdir(parents=True, exist_ok=True)
    (settings.data_dir / "profiles" / "default.yaml").write_text(PROFILE, encoding="utf-8")
    ctx = _context(settings)
    yield ctx
    ctx.store.close()


def _piece(ctx, ref, seed: int = 1, start=(-0.3, 0.5), target=(0.3, -0.5)) -> str:
    from attune.tools.music import plan_music

    plan = plan_music(start, target, SECONDS, seed=seed)
    return store_piece(ctx, ref, plan, ["You seemed tense.", "The tempo falls."], target_words="calmer")["piece_id"]


def _record(ctx, ref, seed: int = 1) -> str:
    """A stored piece without rendering (planned only; its MIDI file is a stand-in), for quick tests."""
    from attune.tools.music import plan_music

    plan = plan_music((-0.3, 0.5), (0.3, -0.5), SECONDS, seed=seed)
    midi = ctx.settings.pieces_dir / ref.patient_id / f"stand-in-{seed}.mid"
    midi.parent.mkdir(parents=True, exist_ok=True)
    midi.write_bytes(b"MThd")
    return ctx.store.add_piece(ref.patient_id, ref.session_id, {"plan": plan.model_dump(mode="json"),
                                                               "why": ["planned only"], "midi": str(midi)})


def _digest(path: str) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _pitches(midi: str) -> list[tuple[float, int]]:
    from attune.tools.music.midiinfo import read_midi

    return [(round(n.start_s, 3), n.pitch) for n in read_midi(midi).notes]


def test_library_lists_newest_first_with_plan_ratings_and_files(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    first = _piece(lib_ctx, ref, seed=1)
    service.rate(lib_ctx, ref, "pre", sam_valence=4, sam_arousal=7, suds=6, piece_id=first)
    service.rate(lib_ctx, ref, "post", sam_valence=6, sam_arousal=4, suds=3, liking=5, piece_id=first)
    second = _piece(lib_ctx, ref, seed=2)
    entries = library.library(lib_ctx, ref)
    assert [e.id for e in entries] == [second, first]
    old = entries[1]
    assert old.key and old.tempo_bpm[0] <= old.end_bpm <= old.tempo_bpm[1]
    assert 19 <= old.duration_s <= 21
    assert set(old.instruments) == {"melody", "harmony", "bass"}
    assert old.start == (-0.3, 0.5) and old.target == (0.3, -0.5) and old.target_words == "calmer"
    assert old.why == ["You seemed tense.", "The tempo falls."]
    assert old.change == {"valence": 2.0, "arousal": -3.0, "suds": -3.0}
    assert old.post["liking"] == 5 and old.times_rated == 1 and old.benefit > 0.5
    assert all(Path(old.files[k]).is_file() for k in ("wav", "ogg", "midi"))
    assert old.created_at is not None and not old.favourite
    assert entries[0].change == {} and entries[0].benefit is None and entries[0].times_rated == 0


def test_library_of_a_new_patient_is_empty(lib_ctx):
    assert library.library(lib_ctx, lib_ctx.start_session("nobody-yet")) == []


@pytest.mark.parametrize("ratings, expected", [
    ([("pre", "P", {"suds": 8}), ("post", "P", {"suds": 2})], {"suds": -6.0}),
    ([("pre", None, {"suds": 8}), ("post", "P", {"suds": 5})], {"suds": -3.0}),  # "before" given ahead of the piece
    ([("post", "P", {"liking": 4})], {}),  # "after" only: liking counts, no change
    ([("pre", "P", {"sam_valence": 3}), ("post", "P", {"sam_valence": 3})], {"valence": 0.0}),
], ids=["linked", "before-without-piece", "after-only", "no-change"])
def test_ratings_pair_with_their_piece(lib_ctx, ratings, expected):
    ref = lib_ctx.start_session("patient-a")
    pid = _record(lib_ctx, ref)
    for phase, piece, data in ratings:
        lib_ctx.store.add_rating(ref.patient_id, ref.session_id, phase, data, piece_id=pid if piece else None)
    entry = library.library(lib_ctx, ref)[0]
    assert entry.change == expected and entry.times_rated == 1


def test_a_favourite_survives_a_new_store_on_the_same_database(settings, lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    keep, other = _record(lib_ctx, ref, seed=1), _record(lib_ctx, ref, seed=2)
    assert library.set_favourite(lib_ctx, ref, keep, True) is True
    lib_ctx.store.close()
    again = _context(settings)  # a restart: new engine, same database file and key
    try:
        ref2 = again.start_session("patient-a")
        assert ref2.patient_id == ref.patient_id
        faves = {e.id: e.favourite for e in library.library(again, ref2)}
        assert faves == {keep: True, other: False}
        library.set_favourite(again, ref2, keep, False)
        assert not any(e.favourite for e in library.library(again, ref2))
    finally:
        again.store.close()


def test_replay_returns_the_same_file_and_records_a_listen(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    pid = _piece(lib_ctx, ref)
    before = library.library(lib_ctx, ref)[0]
    digest, stamp = _digest(before.audio), Path(before.audio).stat().st_mtime_ns
    later = lib_ctx.start_session("patient-a")  # replayed in a later session
    for _ in range(2):
        played = library.replay(lib_ctx, later, pid)
        assert played.id == pid and played.files == before.files and played.audio == before.audio
    assert _digest(played.audio) == digest and Path(played.audio).stat().st_mtime_ns == stamp  # not re-rendered
    assert len(library.library(lib_ctx, ref)) == 1  # no new piece
    listens = [e for e in lib_ctx.store.events(later.session_id, later.patient_id) if e["kind"] == "listen"]
    assert [e["payload"]["piece_id"] for e in listens] == [pid, pid]
    # the replayed piece is the session's current one: a rating without a piece id goes to it
    assert service.rate(lib_ctx, later, "post", suds=2)["piece_id"] == pid


def test_replay_of_a_piece_whose_audio_is_gone_says_so(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    pid = _piece(lib_ctx, ref)
    entry = library.library(lib_ctx, ref)[0]
    for key in ("wav", "ogg"):
        Path(entry.files[key]).unlink()
    with pytest.raises(StorageError, match="no longer on this computer"):
        library.replay(lib_ctx, ref, pid)


def test_more_like_this_keeps_the_plan_and_changes_the_notes(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    pid = _piece(lib_ctx, ref, seed=7)
    parent = library.library(lib_ctx, ref)[0]
    child = library.more_like_this(lib_ctx, ref, pid, seed=1)
    assert child.id != pid and child.parent_id == pid
    assert (child.key, child.tempo_bpm, child.end_bpm, child.instruments, child.start, child.target) == \
        (parent.key, parent.tempo_bpm, parent.end_bpm, parent.instruments, parent.start, parent.target)
    assert _pitches(child.files["midi"]) != _pitches(parent.files["midi"])
    assert _digest(child.audio) != _digest(parent.audio)
    stored = {p["id"]: p for p in lib_ctx.store.pieces(ref.patient_id)}
    assert stored[child.id]["plan"]["limits"] == stored[pid]["plan"]["limits"]
    assert stored[child.id]["plan"]["seed"] != stored[pid]["plan"]["seed"]
    assert child.why[0].startswith("More like the piece from")
    assert [e.id for e in library.library(lib_ctx, ref)] == [child.id, pid]


def test_more_like_this_refuses_a_piece_outside_the_current_limits(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    pid = _piece(lib_ctx, ref, start=(0.5, 0.8), target=(0.5, 0.6))  # brisk: about 100 BPM
    clinic = lib_ctx.settings.data_dir / "profiles" / "default.yaml"
    clinic.write_text(PROFILE.replace("max_bpm: 120", "max_bpm: 70"), encoding="utf-8")
    with pytest.raises(InputError, match="no longer fits the music settings"):
        library.more_like_this(lib_ctx, ref, pid)


@pytest.mark.slow
@pytest.mark.parametrize("mood", [(-0.4, 0.7), (0.2, -0.95)], ids=["tense", "already-calm"])
def test_wind_down_playlist_descends_and_downloads_as_one_file(lib_ctx, mood):
    import soundfile as sf

    ref = lib_ctx.start_session("patient-a")
    lib_ctx.store.add_mood(ref.patient_id, ref.session_id, "fused", {"valence": mood[0], "arousal": mood[1]})
    made = library.wind_down_playlist(lib_ctx, ref)
    pieces = made.pieces
    assert len(pieces) == library.PLAYLIST_PIECES == 3
    assert pieces[0].start == pytest.approx(mood)
    for before, after in zip(pieces, pieces[1:]):
        assert after.start == pytest.approx(before.target)  # each starts where the last ended
        assert after.target[1] < before.target[1]  # ... and ends calmer
        assert after.end_bpm < before.end_bpm or after.end_bpm == 50  # ... and slower (or at the slowest allowed)
    assert pieces[-1].target[1] <= -0.8
    assert all(50 <= p.tempo_bpm[0] and p.tempo_bpm[1] <= 120 for p in pieces)
    assert len({p.key.split(" → ")[-1] for p in pieces} | {p.key.split(" → ")[0] for p in pieces}) <= 2
    assert [p.playlist["position"] for p in pieces] == [1, 2, 3]
    assert {p.playlist["id"] for p in pieces} == {made.id} and {p.playlist["file"] for p in pieces} == {made.file}
    info = sf.info(made.file)
    assert made.file.endswith(".mp3") and info.format == "MP3"
    total = sum(p.duration_s for p in pieces) + 2 * library.GAP_S
    assert info.duration == pytest.approx(total, abs=0.5)
    assert Path(made.file).resolve().is_relative_to(lib_ctx.settings.pieces_dir.resolve())
    assert [e.id for e in library.library(lib_ctx, ref)][:3] == [p.id for p in reversed(pieces)]
    from attune.ui import views

    panel = views.playlist_panel(made, lib_ctx.settings.pieces_dir)
    assert f"({'MP3'}, {views.clock(info.duration)}, one file)" in panel  # the length its player shows


def test_helped_orders_by_benefit_with_unrated_last(lib_ctx):
    ref = lib_ctx.start_session("patient-a")
    ids = [_record(lib_ctx, ref, seed=s) for s in (1, 2, 3)]
    for pid, after in ((ids[0], 5), (ids[1], 1)):  # SUDS 6 -> 5 helped a little, 6 -> 1 a lot
        service.rate(lib_ctx, ref, "pre", suds=6, piece_id=pid)
        service.rate(lib_ctx, ref, "post", suds=after, piece_id=pid)
    library.set_favourite(lib_ctx, ref, ids[1], True)
    order = library.helped(lib_ctx.store, ref.patient_id, "clinician:dr-lee")
    assert [e.id for e in order] == [ids[1], ids[0], ids[2]] and order[0].favourite
    reads = {(a["actor"], a["record"]) for a in lib_ctx.store.audit_log(ref.patient_id)}
    assert {("clinician:dr-lee", "pieces"), ("clinician:dr-lee", "ratings")} <= reads
    from attune.ui.console import helped_rows

    rows = helped_rows(order)
    assert rows[0][0] == "★" and rows[0][7] == "6 → 1 (-5)" and rows[2][1] == "not rated"


def test_an_after_only_rating_never_ranks_as_help(lib_ctx):
    """Liked 5 of 5 with no rating before is not an improvement; a measured SUDS drop ranks first."""
    ref = lib_ctx.start_session("patient-a")
    liked, measured = (_record(lib_ctx, ref, seed=s) for s in (1, 2))
    service.rate(lib_ctx, ref, "post", suds=1, sam_valence=9, liking=5, piece_id=liked)
    service.rate(lib_ctx, ref, "pre", suds=6, piece_id=measured)
    result = service.rate(lib_ctx, ref, "post", suds=4, liking=2, piece_id=measured)
    assert result["measured"] is True
    order = library.helped(lib_ctx.store, ref.patient_id, "clinician:dr-lee")
    assert [e.id for e in order] == [measured, liked]
    assert order[0].benefit == 0.5 and order[1].benefit is None
    from attune.ui.console import helped_rows

    rows = helped_rows(order)
    assert rows[1][1] == "after only" and rows[1][10] == "5"  # liking shown apart from the change


@pytest.mark.parametrize("action", ["favourite", "replay", "more_like_this"])
@pytest.mark.parametrize("whose", ["other-patient", "unknown-id"])
def test_another_patients_piece_is_refused(lib_ctx, action, whose):
    owner = lib_ctx.start_session("patient-a")
    theirs = _record(lib_ctx, owner)
    intruder = lib_ctx.start_session("patient-b")
    target = theirs if whose == "other-patient" else "00000000-0000-0000-0000-000000000000"
    call = {"favourite": lambda: library.set_favourite(lib_ctx, intruder, target, True),
            "replay": lambda: library.replay(lib_ctx, intruder, target),
            "more_like_this": lambda: library.more_like_this(lib_ctx, intruder, target)}[action]
    with pytest.raises(StorageError, match="That piece does not exist for this patient."):
        call()
    mine = library.library(lib_ctx, owner)
    assert len(mine) == 1 and not mine[0].favourite  # nothing of A's changed
    assert library.library(lib_ctx, intruder) == []  # and nothing was made for B


@pytest.mark.parametrize("piece_id", ["", "   "], ids=["empty", "blank"])
def test_a_missing_piece_id_is_a_clear_message(lib_ctx, piece_id):
    ref = lib_ctx.start_session("patient-a")
    with pytest.raises(InputError, match="Choose a piece first"):
        library.replay(lib_ctx, ref, piece_id)


# --- the views ------------------------------------------------------------------------
@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "\"'><b>", "emoji 🎵 and 日本語"],
                         ids=["script", "quotes", "unicode"])
def test_library_card_escapes_and_shows_the_star_and_change(lib_ctx, text):
    from attune.ui import views

    ref = lib_ctx.start_session("patient-a")
    pid = _record(lib_ctx, ref)
    lib_ctx.store.add_rating(ref.patient_id, ref.session_id, "pre", {"suds": 7, "sam_valence": 4}, piece_id=pid)
    lib_ctx.store.add_rating(ref.patient_id, ref.session_id, "post", {"suds": 3, "sam_valence": 6, "liking": 4},
                             piece_id=pid)
    library.set_favourite(lib_ctx, ref, pid, True)
    entry = library.library(lib_ctx, ref)[0]
    html = views.library_card(entry.__class__(**{**entry.__dict__, "why": [text]}), lib_ctx.settings.pieces_dir)
    assert "<script>" not in html and "<b>" not in html
    assert "aria-label='Favourite'>★" in html
    assert "mood 4 → 6 (+2)" in html and "distress 7 → 3 (−4)" in html and "liked 4 of 5" in html
    assert "Download MIDI" in html and entry.key in html


def test_erasing_a_patient_removes_all_their_music_files_and_no_one_elses(lib_ctx):
    from attune.agent.clinic import _remove_piece_files

    gone, kept = lib_ctx.start_session("patient-erased"), lib_ctx.start_session("patient-kept")
    _piece(lib_ctx, gone)
    _piece(lib_ctx, kept)
    root = lib_ctx.settings.pieces_dir
    gone_files = [p for p in (root / gone.patient_id).rglob("*") if p.is_file()]
    assert any(p.suffix == ".json" for p in gone_files), "the plan (start and target moods) is on disk too"
    kept_before = sorted((root / kept.patient_id).rglob("*"))
    assert _remove_piece_files(gone.patient_id, root) == len(gone_files)
    assert not (root / gone.patient_id).exists()
    assert sorted((root / kept.patient_id).rglob("*")) == kept_before
    assert _remove_piece_files("../" + kept.patient_id, root) == 0  # never outside the pieces folder
    assert (root / kept.patient_id).exists()
