"""The web app's parts without a browser: HTML views, accounts, outcomes, exports."""

from __future__ import annotations

import json
import time

import pytest

from attune.common.errors import InputError
from attune.agent import clinic
from attune.agent.codes import new_patient_code
from attune.ui import auth, console, outcomes, senses, views


# --- views ---------------------------------------------------------------------
@pytest.mark.parametrize("text", ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"'><b>",
                                  "emoji 🎵 and 日本語"], ids=["script", "img-onerror", "quotes", "unicode"])
def test_piece_reasons_and_sources_are_escaped(tmp_path, text):
    html = views.piece_card({"piece_id": "p1", "why": [text]}, tmp_path,
                            sources=[{"title": text, "source": text, "text": text}])
    assert "<script>" not in html and "<img src=x" not in html and "<b>" not in html
    assert "Why this music" in html


def test_only_files_inside_the_pieces_folder_are_linked(tmp_path):
    root = tmp_path / "pieces"
    root.mkdir()
    inside = root / "a.wav"
    inside.write_bytes(b"RIFF")
    outside = tmp_path / "secret.wav"
    outside.write_bytes(b"RIFF")
    assert views.file_url(inside, root).startswith(views.FILE_ROUTE)
    assert views.file_url(outside, root) is None
    assert views.file_url(root / ".." / "secret.wav", root) is None
    assert views.file_url(root / "missing.wav", root) is None
    card = views.piece_card({"piece_id": "x", "wav": str(inside), "midi": str(outside)}, root)
    assert "<audio" in card and "Download WAV" in card and "Download MIDI" not in card


@pytest.mark.parametrize("bpm, shown", [(None, False), (0, False), (6, True), (4.5, True)],
                         ids=["none", "zero", "six", "fraction"])
def test_pacer_only_when_paced(bpm, shown):
    html = views.pacer(bpm)
    assert bool(html) == shown
    if shown:
        assert f"animation-duration:{60 / bpm:.2f}s" in html


def test_crisis_banner_is_an_alert_with_call_links():
    html = views.crisis_banner([{"name": "Samaritans", "contact": "116 123", "kind": "call", "note": ""},
                                {"name": "Chat", "contact": "https://example.org", "kind": "chat"}], "GB")
    assert "role='alert'" in html and "tel:116123" in html and "href=\"https://example.org\"" in html



# --- senses: what a reading is said to show -------------------------------------------
FACE = {"stored": True, "expression": "happy", "expression_p": 0.987, "faces": 1}


@pytest.mark.parametrize("shown, said", [
    ({**FACE, "valence": 0.69, "arousal": 0.4},
     "Seen: looks happy (p=0.99): a little more positive, a little more lively. Counted lightly in your mood."),
    ({**FACE, "expression": "sad", "expression_p": 0.6, "valence": -0.4, "arousal": -0.2},
     "Seen: looks sad (p=0.60): a little more negative, a little calmer. Counted lightly in your mood."),
    ({**FACE, "expression": "neutral", "valence": 0.02, "arousal": -0.05},
     "Seen: looks neutral (p=0.99): no nudge either way. Counted lightly in your mood."),
    ({**FACE, "valence": 0.69, "arousal": 0.05, "faces": 3}, "There were 3 faces; the largest was read."),
    ({"stored": False, "valence": 0.0, "arousal": 0.0}, senses.NO_FACE),
], ids=["happy", "sad", "neutral", "several-faces", "no-face"])
def test_face_words(shown, said):
    assert said in senses.face_words(shown)


EEG = {"index": 4.3572, "seconds": 6.0, "confidence": 0.25, "fusion_source": "eeg_within"}


@pytest.mark.parametrize("shown, said", [
    ({**EEG, "arousal": 0.3}, "EEG index 4.36 (beta over alpha and theta) from 6 s: more alert than at the start of "
                              "this recording (no calm baseline yet)."),
    ({**EEG, "arousal": -0.3, "fusion_source": "eeg_personal", "confidence": 0.5}, "more relaxed than your calm "
                                                                                   "baseline."),
    ({**EEG, "arousal": 0.01, "fusion_source": "eeg_personal", "confidence": 0.5}, "about the same as your calm "
                                                                                   "baseline."),
    ({**EEG, "arousal": 0.0, "confidence": 0.0, "seconds": 3.0}, "from 3 s: too short to compare with its own "
                                                                 "start, so it was not counted."),
], ids=["alert-within", "relaxed-personal", "same-personal", "too-short"])
def test_eeg_words_say_the_direction_and_how_little_it_means(shown, said):
    text = senses.eeg_words(shown)
    assert said in text and text.endswith(senses.WEAK)


@pytest.mark.parametrize("name, content", [("snap.png", b"\x89PNG fake"), ("empty.png", b""),
                                           ("名前 🎵.png", b"pixels")], ids=["picture", "empty", "unicode-name"])
def test_a_snapshot_upload_is_deleted_once_read(tmp_path, name, content):
    cache = tmp_path / "gradio"
    folder = cache / "0123abcd"  # Gradio keeps each upload in a folder named by its hash
    folder.mkdir(parents=True)
    upload = folder / name
    upload.write_bytes(content)
    payload = {"path": str(upload), "url": f"/gradio_api/file={upload}", "orig_name": name}
    assert senses.take_upload(payload, cache) == (content or None)
    assert not upload.exists() and not folder.exists() and cache.exists()
    assert senses.take_upload(payload, cache) is None  # a second read finds nothing


@pytest.mark.parametrize("payload, got", [(None, None), ({}, None), ({"path": None, "url": None}, None),
                                          ({"url": "data:image/png;base64,iVBORw0K"}, b"\x89PNG\r\n"),
                                          ({"url": "data:image/png;base64,"}, None)],
                         ids=["none", "empty", "no-path", "data-url", "empty-data-url"])
def test_a_snapshot_that_never_reached_the_disk(tmp_path, payload, got):
    assert senses.take_upload(payload, tmp_path) == got


def test_a_file_outside_gradios_cache_is_read_but_never_deleted(tmp_path):
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"pixels")
    assert senses.take_upload({"path": str(mine)}, tmp_path / "gradio") == b"pixels"
    assert mine.exists()

# --- accounts --------------------------------------------------------------------
def test_passwords_are_argon2_and_wrong_ones_refused(ctx):
    auth.create_user(ctx.store, "Dr.Ana", "a long enough password", "admin")
    row = ctx.store.user("dr.ana")
    assert row["password_hash"].startswith("$argon2id$") and "a long enough" not in row["password_hash"]
    user = auth.login(ctx.store, "dr.ana", "a long enough password")
    assert user.is_admin and user.actor == "clinician:dr.ana"
    for name, pw in (("dr.ana", "wrong password here"), ("nobody", "a long enough password"), ("", "")):
        with pytest.raises(InputError, match="Wrong username or password"):
            auth.login(ctx.store, name, pw)


@pytest.mark.parametrize("name, pw, role", [("x", "a long enough password", "admin"),
                                            ("ok-name", "short", "admin"),
                                            ("ok-name", "a long enough password", "root")],
                         ids=["short-name", "short-password", "bad-role"])
def test_bad_accounts_are_refused(ctx, name, pw, role):
    with pytest.raises(InputError):
        auth.create_user(ctx.store, name, pw, role)


def test_throttle_locks_after_repeated_failures(ctx):
    auth.create_user(ctx.store, "dr.bo", "a long enough password")
    throttle = auth.Throttle(max_failures=3, lock_seconds=60)
    for _ in range(3):
        with pytest.raises(InputError, match="Wrong"):
            auth.login(ctx.store, "dr.bo", "nope nope nope", throttle)
    with pytest.raises(InputError, match="Too many"):
        auth.login(ctx.store, "dr.bo", "a long enough password", throttle)


def test_idle_sign_out():
    user = auth.Clinician("dr.cy", "clinician", time.monotonic() - 16 * 60)
    assert auth.alive(user) is None
    assert auth.alive(auth.touch(user)) is not None
    assert auth.alive(None) is None


def test_first_admin_from_the_environment(ctx, monkeypatch):
    monkeypatch.setenv("ATTUNE_ADMIN_PASSWORD", "the first admin password")
    assert auth.ensure_admin_from_env(ctx.store) == "admin"
    assert auth.ensure_admin_from_env(ctx.store) is None  # never overwritten
    assert auth.login(ctx.store, "admin", "the first admin password").is_admin


# --- outcomes and exports ----------------------------------------------------------
def _rate(ctx, code, pre_suds, post_suds, piece="p"):
    ref = ctx.start_session(code)
    ctx.store.add_rating(ref.patient_id, ref.session_id, "pre", {"suds": pre_suds, "sam_valence": 4}, piece_id=piece)
    ctx.store.add_rating(ref.patient_id, ref.session_id, "post", {"suds": post_suds, "sam_valence": 6}, piece_id=piece)
    return ref


def test_clinic_summary_is_withheld_when_small_and_counts_when_not(ctx):
    _rate(ctx, "a", 7, 4)
    small = outcomes.clinic_summary(outcomes.collect_pairs(ctx.store, "clinician:t"))
    assert small["withheld"] and "withheld" in small["message"]
    for i, (a, b) in enumerate([(6, 6), (8, 3), (5, 2), (4, 5)]):
        _rate(ctx, f"p{i}", a, b)
    s = outcomes.clinic_summary(outcomes.collect_pairs(ctx.store, "clinician:t"))
    assert not s["withheld"] and s["pieces_rated"] == 5 and s["suds_fell"] == 3 and s["improved"] == 3
    assert "patient" not in json.dumps(s)  # nothing per patient


def test_dp_release_states_epsilon_and_stays_in_bounds(ctx):
    for i in range(6):
        _rate(ctx, f"q{i}", 7, 3)
    release = outcomes.dp_release(outcomes.collect_pairs(ctx.store, "clinician:t"), epsilon=0.5)
    assert release["epsilon_total"] == 0.5
    assert sum(r["epsilon"] for r in release["statistics"]) == pytest.approx(0.5)
    for r in release["statistics"]:
        lo, hi = r["bounds"]
        assert r["noisy_mean"] is None or lo <= r["noisy_mean"] <= hi
    assert "epsilon_total=0.5" in outcomes.dp_csv(release)
    with pytest.raises(ValueError):
        outcomes.dp_release([], epsilon=0)


def test_patient_figure_draws_with_and_without_data(ctx):
    ref = _rate(ctx, "fig", 7, 3)
    pairs = outcomes.pairs_from_ratings(ref.patient_id, ctx.store.ratings(ref.patient_id))
    moods = [{"valence": 0.1, "arousal": 0.5, "session_id": "s1"}, {"valence": 0.3, "arousal": 0.1, "session_id": "s2"}]
    assert outcomes.patient_figure(moods, pairs).axes
    assert outcomes.patient_figure([], []).axes


def test_export_csv_holds_turns_and_ratings(ctx):
    ref = _rate(ctx, "exp", 6, 2)
    ctx.store.append_turn(ref.session_id, ref.patient_id, "patient", 'a "quoted", comma line')
    text = clinic.export_csv(ctx.store.export_patient(ref.patient_id, "clinician:t"))
    assert text.splitlines()[0] == "record,session_id,created_at,role_or_phase,content"
    assert '"a ""quoted"", comma line"' in text and "\nrating," in text


def test_patient_codes_are_readable_and_unique():
    codes = {new_patient_code() for _ in range(200)}
    assert len(codes) == 200
    assert all(len(c) == 14 and c.count("-") == 2 and not set(c) & set("01IO") for c in codes)


# --- anonymous patients: one per browser, never a shared one ------------------------------
def test_anonymous_codes_are_long_random_and_readable():
    from attune.agent import codes

    made = {codes.new_patient_code(codes.ANONYMOUS_GROUPS) for _ in range(500)}
    assert len(made) == 500
    assert all(len(c) == 19 and c.count("-") == 3 and not set(c) & set("01IO") for c in made)
    assert all(codes.is_anonymous_code(c) for c in made)
    assert len(codes.ALPHABET) ** (4 * codes.ANONYMOUS_GROUPS) >= 2 ** 80  # not to be guessed


@pytest.mark.parametrize("typed, canonical", [
    ("K7QM-42XD-PA9T-3RWN", "K7QM-42XD-PA9T-3RWN"), ("k7qm 42xd pa9t 3rwn", "K7QM-42XD-PA9T-3RWN"),
    ("  k7qm42xdpa9t3rwn ", "K7QM-42XD-PA9T-3RWN"), ("K7QM-42XD-PA9T", "K7QM-42XD-PA9T"),
    ("code-of-patient-a", None), ("local-user", None), ("", None), (None, None), ("K", None),
    ("K7QM-42XD-PA9", None), ("K0QM-42XD-PA9T", None), ("🎵🎵🎵🎵", None), ("К7QM-42XD-PA9T", None),
], ids=["as-issued", "lower-spaces", "run-together", "clinic", "custom", "cli-user", "empty", "none", "one-char",
        "short", "zero", "emoji", "cyrillic-k"])
def test_a_typed_code_reads_back_as_issued(typed, canonical):
    from attune.agent.codes import canonical_code

    assert canonical_code(typed) == canonical


@pytest.mark.parametrize("saved", [
    None, "", "local-user", "K7QM-42XD-PA9T", "k7qm-42xd-pa9t-3rwn", "K7QM 42XD PA9T 3RWN", "K7QM-42XD-PA9T-3RWN-",
    "K7QM-42XD-PA9T-3RWN" * 50, "🎵", 12345, ["K7QM-42XD-PA9T-3RWN"], {"code": "K7QM-42XD-PA9T-3RWN"},
], ids=["none", "empty", "cli-user", "clinic-code", "lower", "spaces", "trailing-dash", "very-long", "emoji",
        "number", "list", "dict"])
def test_a_browser_cannot_claim_a_code_it_was_not_given(saved):
    from attune.agent.codes import is_anonymous_code
    from attune.agent.context import LOCAL_PATIENT_CODE
    from attune.ui.patient import visitor_code

    got = visitor_code(saved)
    assert got != saved and got != LOCAL_PATIENT_CODE and is_anonymous_code(got)


def test_a_browser_keeps_the_code_it_was_given():
    from attune.ui.patient import visitor_code

    first = visitor_code(None)
    assert visitor_code(first) == first
    assert visitor_code(None) != first  # every new browser its own


def _now() -> str:
    from datetime import datetime, timezone

    return datetime.now(timezone.utc).isoformat()


def test_a_goodbye_after_a_hard_session_says_where_help_is(ctx):
    from attune.agent import service

    ref = ctx.start_session("hard-ending-patient")
    ctx.store.save_session_state(ref.session_id, ref.patient_id,
                                 {"step": "listen_checkin", "turns": 3, "pieces": 0,
                                  "flag_reason": "said they wanted to disappear"})
    assert "988" in service.end_session(ctx, ref)


def test_ending_a_session_says_goodbye_with_a_summary_and_remembers_it(ctx):
    from attune.agent import service

    ref = ctx.start_session("ending-patient")
    reports = [{"suds": 7, "sam_valence": 3, "sam_arousal": 7, "at": _now()},
               {"suds": 2, "sam_valence": 7, "sam_arousal": 3, "at": _now()}]
    ctx.store.save_session_state(ref.session_id, ref.patient_id,
                                 {"step": "listen_checkin", "turns": 4, "pieces": 1, "self_reports": reports})
    text = service.end_session(ctx, ref)
    assert "we listened to 1 piece" in text and "from 7 to 2" in text and "calm" in text
    assert "988" not in text  # a session that ended calmer is not sent off with a crisis line
    memory = ctx.store.patient_data(ref.patient_id)["sessions"]
    assert [m["session_id"] for m in memory] == [ref.session_id]
    assert service.end_session(ctx, ref) == text  # pressed twice: the same words, nothing more kept
    assert len(ctx.store.patient_data(ref.patient_id)["sessions"]) == 1
    said = [t for t in ctx.store.turns(ref.session_id, ref.patient_id) if t["role"] == "assistant"]
    assert [t["content"] for t in said] == [text] and said[0]["meta"]["step"] == "close"
    assert ctx.store.session(ref.session_id, ref.patient_id)["state"]["step"] == "close"


def test_ending_a_session_in_which_nothing_was_said_keeps_no_memory(ctx):
    from attune.agent import service

    ref = ctx.start_session("quiet-patient")
    text = service.end_session(ctx, ref)
    assert text.startswith("Thank you for stopping by.") and "  " not in text
    assert "sessions" not in ctx.store.patient_data(ref.patient_id)


def test_ending_a_session_keeps_no_memory_when_notes_were_declined(ctx):
    from attune.agent import service

    ref = ctx.start_session("private-patient")
    ctx.store.save_session_state(ref.session_id, ref.patient_id, {"turns": 2, "consent_store": False})
    assert service.end_session(ctx, ref).startswith("Thank you for spending this time with me.")
    assert "sessions" not in ctx.store.patient_data(ref.patient_id)


def test_scratch_context_keeps_test_chats_out_of_the_patient_store(ctx):
    from attune.prompts import load_profile

    prof = load_profile("default").model_copy(update={"name": "draft-x"})
    scratch = console.scratch_context(ctx, prof)
    assert scratch.settings.data_dir != ctx.settings.data_dir
    assert scratch.settings.resolved_database_url != ctx.settings.resolved_database_url
    assert (scratch.settings.data_dir / "profiles" / "draft-x.yaml").exists()
    scratch.store.close()
