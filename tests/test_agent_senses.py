"""Face snapshots and EEG readings in a session: stored as numbers, fused into the next turn's mood.

A refused, absent or failing sensor gives a clear message and the conversation goes on.
"""

from __future__ import annotations

import imageio.v3 as iio
import pytest
from skimage import data

from attune.agent import service
from attune.common.errors import ConfigError, InputError
from attune.agent.turn import run_turn
from attune.tools.mood.eeg import record_synthetic


def turn(ctx, ref, text):
    return list(run_turn(ctx, ref, text))[-1]


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    """One app for the module (the knowledge index is built once); the live-EEG test makes its own."""
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext
    from attune.agent.llm import scripted_backend

    c = AppContext.create(load_settings(data_dir=tmp_path_factory.mktemp("data"), llm="scripted"),
                          backend=scripted_backend())
    yield c
    c.store.close()


@pytest.fixture
def session(ctx, request):
    ref = ctx.start_session(f"patient-senses-{request.node.name}")
    turn(ctx, ref, "hi")
    return ref


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    path = tmp_path_factory.mktemp("eeg") / "session.csv"
    return path, record_synthetic(path, 6)


def test_a_smile_is_stored_as_numbers_and_nudges_the_next_turn(ctx, session):
    plain = turn(ctx, session, "I feel flat today")
    shown = service.add_face(ctx, session, data.astronaut())
    assert shown["stored"] and shown["fusion_source"] == "face" and shown["valence"] > 0.5
    assert any("not a feeling" in line for line in shown["evidence"])
    stored = ctx.store.moods(session.patient_id, session.session_id)[-1]
    assert stored["source"] == "face" and set(stored) >= {"valence", "arousal", "confidence"}
    assert not any(isinstance(v, (bytes, bytearray)) or (hasattr(v, "shape")) for v in stored.values())
    nudged = turn(ctx, session, "I feel flat today")
    assert nudged.mood["valence"] > plain.mood["valence"]
    assert nudged.mood["label"], "the words still name the feeling"


def test_no_face_keeps_nothing(ctx, session):
    before = len(ctx.store.moods(session.patient_id, session.session_id))
    shown = service.add_face(ctx, session, data.coffee())
    assert not shown["stored"] and "no face found" in shown["evidence"][0]
    assert len(ctx.store.moods(session.patient_id, session.session_id)) == before


def test_not_an_image_is_refused_and_the_session_goes_on(ctx, session, tmp_path):
    bad = tmp_path / "camera.jpg"
    bad.write_bytes(b"\x00\x01garbage")
    with pytest.raises(InputError, match="not an image"):
        service.add_face(ctx, session, bad)
    assert turn(ctx, session, "I'm still here, feeling a bit tense").action == "allow"


def test_eeg_recording_imports_with_the_persons_baseline(ctx, session, recording):
    path, reading = recording
    first = service.add_eeg_file(ctx, session, path)
    assert first["fusion_source"] == "eeg_within"  # no calm baseline yet: compared with its own start
    base = service.set_eeg_baseline(ctx, session, path=path)
    assert base["index"] == pytest.approx(reading.index, rel=1e-3)
    second = service.add_eeg_file(ctx, session, path)
    assert second["fusion_source"] == "eeg_personal" and abs(second["arousal"]) < 0.05
    assert turn(ctx, session, "okay, ready for some music").action == "allow"


def test_eeg_file_with_wrong_channels_is_explained(ctx, session, tmp_path):
    bad = tmp_path / "muse.csv"
    bad.write_text("".join(f"{i}\t1.0\t2.0\t3.0\n" for i in range(1500)))
    with pytest.raises(InputError, match="columns"):
        service.add_eeg_file(ctx, session, bad)


def test_live_eeg_needs_a_configured_headset(ctx, session):
    with pytest.raises(ConfigError, match="ATTUNE_EEG_BOARD"):
        service.read_eeg_live(ctx, session)


def test_live_eeg_from_the_synthetic_board_feeds_the_mood(settings, scripted):
    from attune.agent.context import AppContext

    ctx = AppContext.create(settings.model_copy(update={"eeg_board": "synthetic"}), backend=scripted)
    try:
        ref = ctx.start_session("patient-eeg-live")
        shown = service.read_eeg_live(ctx, ref, seconds=5)
        assert shown["stored"] and shown["board"] == "SYNTHETIC_BOARD" and shown["index"] > 0
        done = turn(ctx, ref, "hello")
        assert done.action == "allow"
    finally:
        ctx.store.close()


def test_picture_is_written_nowhere(ctx, session, tmp_path):
    photo = tmp_path / "me.png"
    iio.imwrite(photo, data.astronaut())
    before = {p: p.stat().st_mtime for p in ctx.settings.data_dir.rglob("*") if p.is_file()}
    service.add_face(ctx, session, photo)
    after = {p: p.stat().st_mtime for p in ctx.settings.data_dir.rglob("*") if p.is_file()}
    new_files = [p for p in after if p not in before]
    assert not [p for p in new_files if p.suffix.lower() in {".png", ".jpg", ".jpeg", ".npy", ".bin"}]
    blob = photo.read_bytes()[-4096:]  # a stretch of the compressed picture
    assert not any(blob in p.read_bytes() for p in after if after[p] != before.get(p))
