"""The opt-in senses on the patient page in Debian's Chromium: facial expression (with consent) and EEG.

Chromium runs with a fake camera (``--use-fake-device-for-media-stream``,
a moving test pattern with no face) that is granted without a prompt
(``--use-fake-ui-for-media-stream``). A refused camera is a page whose
``getUserMedia`` rejects, as a browser does when the person says no. Gradio
writes uploads to its temp folder, set to a folder of this module's own,
so the tests can check that no picture is left there. One server per
setting (no headset; the synthetic BrainFlow board as a headset).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from tests.ui_helpers import SHOTS, chromium, echo_backend, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

CAMERA_ARGS = ["--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream"]
REFUSE_CAMERA = ("navigator.mediaDevices.getUserMedia = () => "
                 "Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));")
PICTURE_SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif", ".bmp", ".npy"}
LIVE_SECONDS = 3  # seconds of the synthetic board per live reading


@pytest.fixture(scope="module")
def browser():
    """Chromium with the fake camera (overrides the plain one from conftest)."""
    with chromium(CAMERA_ARGS) as b:
        yield b


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """Gradio's upload folder for the servers of this module (GRADIO_TEMP_DIR is read when an app is built)."""
    folder = tmp_path_factory.mktemp("gradio-uploads")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GRADIO_TEMP_DIR", str(folder))
        yield folder


def _context(folder: Path, **settings):
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext

    return AppContext.create(load_settings(data_dir=folder, llm="scripted", **settings),
                             backend=echo_backend(word_delay=0.05))


@pytest.fixture(scope="module")
def server(uploads, tmp_path_factory):
    ctx = _context(tmp_path_factory.mktemp("senses-data"))
    with running_app(ctx) as url:
        yield url, ctx
    ctx.store.close()


@pytest.fixture(scope="module")
def headset_server(uploads, tmp_path_factory):
    """Started as with ATTUNE_EEG_BOARD=synthetic."""
    ctx = _context(tmp_path_factory.mktemp("headset-data"), eeg_board="synthetic", eeg_seconds=LIVE_SECONDS)
    with running_app(ctx) as url:
        yield url, ctx
    ctx.store.close()


@pytest.fixture(scope="module")
def astronaut(tmp_path_factory) -> Path:
    import imageio.v3 as iio
    from skimage import data

    path = tmp_path_factory.mktemp("photos") / "astronaut.png"
    iio.imwrite(path, data.astronaut())
    return path


@pytest.fixture(scope="module")
def recording(tmp_path_factory) -> Path:
    from attune.tools.mood.eeg import record_synthetic

    path = tmp_path_factory.mktemp("eeg") / "session.csv"
    record_synthetic(path, 5)
    return path


def _open(browser, url: str, width: int = 1280, height: int = 900, refuse_camera: bool = False):
    context = browser.new_context(viewport={"width": width, "height": height}, permissions=["camera"])
    if refuse_camera:
        context.add_init_script(REFUSE_CAMERA)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load")
    page.get_by_label("Your message").wait_for()
    return page


@pytest.fixture
def page(browser, server):
    p = _open(browser, server[0])
    yield p
    p.context.close()


def _consent(page) -> None:
    page.get_by_text("Facial expression (optional)").click()
    page.locator("#face-consent input").check()
    page.locator("#face-snap").wait_for()


def _upload_picture(page, path: Path) -> str:
    page.locator("#face-snap input[type=file]").set_input_files(str(path))
    msg = page.locator("#face-msg .msg")
    msg.wait_for()
    return msg.inner_text()


def _eeg_upload(page, path: Path) -> str:
    page.get_by_text("EEG headset (optional)").click()
    page.locator("#eeg-file input[type=file]").set_input_files(str(path))
    msg = page.locator("#eeg-msg .msg")
    msg.wait_for()
    return msg.inner_text()


def _sessions(ctx) -> set[tuple[str, str]]:
    return {(s["id"], s["patient_id"]) for s in ctx.store.list_sessions("test")}


def _face_readings(ctx, sessions) -> list[dict]:
    return [m for sid, pid in sessions for m in ctx.store.moods(pid, sid) if m["source"] == "face"]


def _pictures_left(*folders: Path, photo: bytes | None = None) -> list[Path]:
    """Files in the folders that are pictures by name, or hold the photo's bytes."""
    left = []
    for folder in folders:
        for path in folder.rglob("*"):
            if path.is_file() and (path.suffix.lower() in PICTURE_SUFFIXES
                                   or (photo is not None and path.stat().st_size == len(photo)
                                       and path.read_bytes() == photo)):
                left.append(path)
    return left


def send(page, text: str) -> None:
    page.get_by_label("Your message").fill(text)
    page.get_by_role("button", name="Send", exact=True).click()


def wait_for_reply(page) -> str:
    page.locator("#progress .progress").wait_for(state="detached", timeout=90_000)
    bot = page.locator("#chat [data-testid=bot]").last
    bot.wait_for(timeout=90_000)
    return bot.inner_text()


# --- facial expression ------------------------------------------------------------------
def test_the_camera_opens_only_with_consent_and_closes_when_it_is_withdrawn(page):
    from attune.ui.senses import CAMERA_OFF, CONSENT

    page.get_by_text("Facial expression (optional)").click()
    box = page.locator("#face-consent input")
    box.wait_for()
    assert not box.is_checked(), "consent is never given by default"
    assert page.get_by_text(CONSENT).is_visible()
    assert not page.locator("#face-snap").is_visible()
    assert page.locator("video").count() == 0
    box.check()
    page.locator("#face-snap").wait_for()
    page.get_by_text("Click to Access Webcam").click()
    page.locator("#face-snap video").wait_for()
    page.wait_for_function("() => document.querySelector('#face-snap video')?.srcObject?.active === true")
    page.evaluate("() => { window.cameraStream = document.querySelector('#face-snap video').srcObject; }")
    box.uncheck()
    page.locator("#face-msg").get_by_text(CAMERA_OFF).wait_for()
    page.locator("#face-snap").wait_for(state="detached")
    # the camera itself is released, not only hidden
    page.wait_for_function("() => window.cameraStream.getTracks().every(t => t.readyState === 'ended')")


def test_a_photo_is_read_and_only_numbers_are_kept(page, server, astronaut, uploads):
    _, ctx = server
    before = _sessions(ctx)
    _consent(page)
    shown = _upload_picture(page, astronaut)
    assert "Seen: looks happy (p=" in shown and "Counted lightly in your mood." in shown
    assert "a little more positive" in shown
    mine = _sessions(ctx) - before
    readings = _face_readings(ctx, mine)
    assert len(readings) == 1
    kept = readings[0]
    assert kept["valence"] > 0.3 and 0 < kept["confidence"] <= 0.6 and kept["expression"] == "happy"
    for key, value in kept.items():  # numbers and short words only: no pixels, no picture in any form
        assert isinstance(value, (int, float, str, list, datetime, type(None))), key
        assert not isinstance(value, str) or len(value) < 200, key
    assert len(json.dumps(kept, default=str)) < 3000
    assert not page.locator("#face-snap img[src*='astronaut']").count(), "the picture is not shown back either"
    assert _pictures_left(uploads, ctx.settings.data_dir, photo=astronaut.read_bytes()) == []


def test_a_webcam_snapshot_without_a_face_keeps_nothing(page, server, uploads):
    from attune.ui.senses import NO_FACE

    _, ctx = server
    before = _sessions(ctx)
    _consent(page)
    page.get_by_text("Click to Access Webcam").click()
    page.wait_for_function("() => document.querySelector('#face-snap video')?.readyState >= 2")
    page.get_by_role("button", name="capture photo").click()
    msg = page.locator("#face-msg .msg")
    msg.wait_for()
    assert msg.inner_text() == NO_FACE  # the fake camera's test pattern has no face
    assert _face_readings(ctx, _sessions(ctx) - before) == []
    assert _pictures_left(uploads, ctx.settings.data_dir) == []


def test_a_refused_camera_is_explained_and_the_chat_goes_on(browser, server):
    from attune.ui.senses import BLOCKED

    page = _open(browser, server[0], refuse_camera=True)
    try:
        _consent(page)
        page.get_by_text("Click to Access Webcam").click()
        assert page.locator("#face-camera").get_by_text(BLOCKED).is_visible()
        assert page.locator("#face-snap video").evaluate("v => !v.srcObject")  # no stream came
        send(page, "hello")
        assert wait_for_reply(page).strip()
    finally:
        page.context.close()


@pytest.mark.parametrize("content, said", [
    (b"these are words, not pixels\n" * 20, "That file is not an image we can read (PNG or JPEG)."),
    (b"", "No picture came through."),
], ids=["text-named-png", "empty-file"])
def test_a_file_that_is_not_a_picture_is_explained_and_the_chat_goes_on(page, server, tmp_path, uploads,
                                                                         content, said):
    _, ctx = server
    before = _sessions(ctx)
    fake = tmp_path / "me.png"
    fake.write_bytes(content)
    _consent(page)
    assert said in _upload_picture(page, fake)
    assert _face_readings(ctx, _sessions(ctx) - before) == []
    assert not [p for p in uploads.rglob("me.png")], "the upload is deleted even when it could not be read"
    send(page, "hello")
    reply = wait_for_reply(page)
    assert reply.strip() and "⚠" not in reply


def test_a_snapshot_taken_during_a_reply_is_kept(page, server, astronaut):
    """The reading waits for the turn (which saves the session state) instead of being overwritten by it."""
    _, ctx = server
    before = _sessions(ctx)
    send(page, "hello")
    wait_for_reply(page)
    _consent(page)
    send(page, "I have been feeling tense all week about my exams and cannot sleep at all")
    page.locator("#progress .progress").wait_for()
    assert "looks happy" in _upload_picture(page, astronaut)
    wait_for_reply(page)
    (sid, pid), = _sessions(ctx) - before
    state = ctx.store.session(sid, pid)["state"]
    assert [r for r in state["readings"] if r["source"] == "face"], "the reading was lost to the turn's save"


# --- EEG ----------------------------------------------------------------------------------
def test_an_eeg_recording_is_read_and_can_become_the_calm_baseline(page, server, recording):
    from attune.ui.senses import NO_HEADSET, WEAK

    _, ctx = server
    shown = _eeg_upload(page, recording)
    assert shown.startswith("EEG index ") and WEAK in shown
    assert any(words in shown for words in ("about the same as", "more alert than", "more relaxed than"))
    assert page.locator("#eeg-box").get_by_text(NO_HEADSET).is_visible()
    assert page.get_by_role("button", name="Record calm baseline").count() == 0  # no headset set up here
    page.get_by_role("button", name="Set my calm baseline from this recording").click()
    page.locator("#eeg-msg").get_by_text("Calm baseline saved: EEG index").wait_for()


@pytest.mark.parametrize("rows, said", [
    ("".join(f"{i}\t1.0\t2.0\n" for i in range(1500)), "columns"),
    ("time,channel one,channel two\n" * 3, "is not a BrainFlow EEG recording"),
    ("", "is empty"),
], ids=["three-columns", "words", "empty"])
def test_a_bad_eeg_file_is_explained(page, tmp_path, rows, said):
    bad = tmp_path / "headset.csv"
    bad.write_text(rows)
    shown = _eeg_upload(page, bad)
    assert said in shown and page.locator("#eeg-msg [role=alert]").count() == 1


def test_the_configured_headset_is_read_live(browser, headset_server):
    url, ctx = headset_server
    page = _open(browser, url)
    try:
        page.get_by_text("EEG headset (optional)").click()
        page.get_by_role("button", name=f"Read headset for {LIVE_SECONDS} s").click()
        page.locator("#eeg-msg").get_by_text("Reading the headset").wait_for()
        page.locator("#eeg-msg").get_by_text("EEG index").wait_for()
        page.get_by_role("button", name="Record calm baseline").click()
        page.locator("#eeg-msg").get_by_text("Calm baseline saved").wait_for()
        page.get_by_role("button", name=f"Read headset for {LIVE_SECONDS} s").click()
        page.locator("#eeg-msg").get_by_text("than your calm baseline").or_(
            page.locator("#eeg-msg").get_by_text("as your calm baseline")).wait_for()
        (sid, pid), = _sessions(ctx)
        eeg = [m for m in ctx.store.moods(pid, sid) if m["source"] == "eeg"]
        assert len(eeg) == 2 and eeg[-1]["fusion_source"] == "eeg_personal"
    finally:
        page.context.close()


# --- how it looks -------------------------------------------------------------------------
@pytest.mark.parametrize("width, height, name", [(1280, 900, "desktop"), (390, 844, "phone")],
                         ids=["desktop", "phone"])
def test_senses_screenshots(browser, server, astronaut, recording, width, height, name):
    page = _open(browser, server[0], width, height)
    try:
        _consent(page)
        _upload_picture(page, astronaut)
        _eeg_upload(page, recording)
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.locator("#face-box").scroll_into_view_if_needed()
        page.screenshot(path=str(SHOTS / f"senses-{name}.png"))
        page.screenshot(path=str(SHOTS / f"senses-{name}-full.png"), full_page=True)
        overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 2, f"page is {overflow}px wider than the {width}px screen"
    finally:
        page.context.close()
