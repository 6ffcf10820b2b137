"""My music in Debian's Chromium: favourites across a restart, replay, more like this, wind-down, console.

Pieces are stored directly (20-second plans rendered once) so the browser
work is the library itself; each test signs in with its own personal code,
so each is its own patient. The clinic profile keeps new pieces at 20 s.
"""

from __future__ import annotations

import re
import time
from pathlib import Path
from urllib.parse import unquote

import pytest

from tests.ui_helpers import SHOTS, echo_backend, running_app

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(300)]

CLINICIAN, PASSWORD = "dr.lee", "correct horse battery staple"
PROFILE = "name: default\npiece_seconds: 20\n"  # seconds: the shortest piece a profile allows


def _settings(folder: Path):
    from attune.agent.config import load_settings

    (folder / "profiles").mkdir(parents=True, exist_ok=True)
    (folder / "profiles" / "default.yaml").write_text(PROFILE, encoding="utf-8")
    return load_settings(data_dir=folder, llm="scripted")


def _context(settings):
    from attune.agent.context import AppContext

    return AppContext.create(settings, backend=echo_backend())


def _piece(ctx, code: str, seed: int = 3, rated: bool = False) -> str:
    """One rendered 20-second piece of the patient with ``code``; its id."""
    from attune.agent import service
    from attune.agent.music_step import store_piece
    from attune.tools.music import plan_music

    ref = ctx.start_session(code)
    plan = plan_music((-0.3, 0.5), (0.3, -0.5), 20, seed=seed)
    pid = store_piece(ctx, ref, plan, ["You seemed tense.", "The tempo falls."], target_words="calmer")["piece_id"]
    if rated:
        service.rate(ctx, ref, "pre", sam_valence=4, sam_arousal=7, suds=7, piece_id=pid)
        service.rate(ctx, ref, "post", sam_valence=6, sam_arousal=4, suds=3, liking=5, piece_id=pid)
    return pid


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from attune.ui.auth import create_user

    ctx = _context(_settings(tmp_path_factory.mktemp("lib-data")))
    create_user(ctx.store, CLINICIAN, PASSWORD, "clinician")
    with running_app(ctx) as url:
        yield url, ctx
    ctx.store.close()


def _open(browser, url: str, code: str, width: int = 1280, height: int = 900):
    """A new tab that continues as the patient with ``code``; waits for the library list."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load")
    page.get_by_text("Returning? Continue with your personal code").click()
    page.get_by_label("Personal code").fill(code)
    page.get_by_role("button", name="Continue my sessions").click()
    page.locator("#library-list .lib-piece").first.wait_for()
    return page


def _card(page, pid: str):
    return page.locator(f"#library-list .lib-piece[data-piece-id='{pid}']")


def _plan_line(page, pid: str) -> str:
    """ "G major · 96–104 BPM" from a card (key and tempo range)."""
    return " · ".join(_card(page, pid).locator(".lib-plan").inner_text().split(" · ")[:2])


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.locator("#library").scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_favourite_survives_a_restart_of_the_app(browser, tmp_path):
    settings = _settings(tmp_path / "data")
    ctx = _context(settings)
    keep, other = _piece(ctx, "restart-patient", seed=1), _piece(ctx, "restart-patient", seed=2)
    with running_app(ctx) as url:
        page = _open(browser, url, "restart-patient")
        page.locator(f"#fav-{keep[:8]}").click()
        page.locator(f"#fav-{keep[:8]}", has_text="★ Favourite").wait_for()
        page.locator("#library-msg").get_by_text("Added to your favourites.").wait_for()
        page.context.close()
    ctx.store.close()  # the server is gone; a new process-worth of app opens the same database
    again = _context(settings)
    try:
        with running_app(again) as url:
            page = _open(browser, url, "restart-patient")
            _card(page, keep).locator(".star").wait_for()
            assert page.locator(f"#fav-{keep[:8]}").inner_text().strip() == "★ Favourite"
            assert page.locator(f"#fav-{other[:8]}").inner_text().strip() == "☆ Add to favourites"
            assert _card(page, other).locator(".star").count() == 0
            page.get_by_label("Only favourites").check()  # the filter shows the starred piece alone
            _card(page, other).wait_for(state="detached")
            assert _card(page, keep).is_visible()
            page.context.close()
    finally:
        again.store.close()


def test_replay_plays_the_same_stored_file(browser, server):
    from attune.agent import library
    from attune.ui.views import file_url

    url, ctx = server
    pid = _piece(ctx, "replay-patient", rated=True)
    stored = ctx.store.piece(ctx.store.patient_for_code("replay-patient"), pid)
    expected = file_url(stored["ogg"], ctx.settings.pieces_dir)
    on_disk = Path(stored["ogg"]).read_bytes()
    page = _open(browser, url, "replay-patient")
    assert "distress 7 → 3 (−4)" in _card(page, pid).inner_text()  # the ratings change is shown
    sources = []
    for _ in range(2):
        page.locator(f"#replay-{pid[:8]}").click()
        audio = page.locator(f"#now-playing .now-playing[data-piece-id='{pid}'] audio")
        audio.wait_for()
        page.wait_for_function("() => { const a = document.querySelector('#now-playing audio');"
                               " return a && !a.paused && a.currentTime > 0.2; }", timeout=20_000)
        sources.append(audio.get_attribute("src"))
        page.locator("#now-playing audio").evaluate("a => a.pause()")
    assert sources == [expected, expected]
    assert Path(unquote(sources[0].split("file=", 1)[1])) == Path(stored["ogg"]).resolve()
    assert page.request.get(url + sources[0]).body() == on_disk  # the very bytes stored, not a new render
    patient = ctx.store.patient_for_code("replay-patient")
    assert len(library.library(ctx, _ref(ctx, "replay-patient"))) == 1  # nothing new was made
    listens = [e for s in ctx.store.list_sessions("test", patient)
               for e in ctx.store.events(s["id"], patient) if e["kind"] == "listen"]
    assert [e["payload"]["piece_id"] for e in listens] == [pid, pid]
    _shot(page, "library-replay")
    page.context.close()


def _ref(ctx, code: str):
    from attune.agent.context import SessionRef

    patient = ctx.store.patient_for_code(code)
    return SessionRef(patient, ctx.store.list_sessions("test", patient)[0]["id"])


def test_more_like_this_makes_a_different_piece_in_the_same_key_and_tempo(browser, server):
    from attune.agent import library
    from attune.tools.music.midiinfo import read_midi

    url, ctx = server
    parent = _piece(ctx, "more-patient", seed=5)
    page = _open(browser, url, "more-patient")
    before = _plan_line(page, parent)
    page.locator(f"#more-{parent[:8]}").click()
    page.locator("#now-playing").get_by_text("New piece").wait_for(timeout=120_000)
    child = page.locator("#now-playing .now-playing").get_attribute("data-piece-id")
    assert child and child != parent
    _card(page, child).locator(".tag", has_text="More like the piece from").wait_for()
    assert _plan_line(page, child) == before  # same key and tempo range on the page
    entries = {e.id: e for e in library.library(ctx, _ref(ctx, "more-patient"))}
    a, b = entries[parent], entries[child]
    assert (b.key, b.tempo_bpm, b.instruments, b.parent_id) == (a.key, a.tempo_bpm, a.instruments, parent)
    notes = lambda e: [(round(n.start_s, 3), n.pitch) for n in read_midi(e.files["midi"]).notes]  # noqa: E731
    assert notes(a) != notes(b)
    src = page.locator("#now-playing audio").get_attribute("src")
    assert src != page.locator(f"#library-list .lib-piece[data-piece-id='{parent}'] a.dl").first.get_attribute("href")
    assert page.request.get(url + src).ok
    page.context.close()


def test_a_wind_down_playlist_downloads_as_one_file(browser, server):
    url, ctx = server
    _piece(ctx, "winddown-patient")
    page = _open(browser, url, "winddown-patient")
    page.get_by_role("button", name="Make a wind-down playlist").click()
    link = page.locator("#playlist a.dl")
    link.wait_for(timeout=180_000)
    assert "MP3" in link.inner_text()
    body = page.request.get(url + link.get_attribute("href")).body()
    assert len(body) > 50_000 and (body[:3] == b"ID3" or body[0] == 0xFF)  # an MP3 stream
    assert page.locator("#playlist ol.playlist-pieces li").count() == 3
    ends = [float(m) for m in re.findall(r"ends at (\d+) BPM", page.locator("#playlist").inner_text())]
    assert len(ends) == 3 and ends[0] > ends[1] > ends[2]
    assert page.locator("#library-list .tag", has_text=re.compile(r"Wind-down \d of 3")).count() == 3
    _shot(page, "library-desktop")
    page.context.close()
    phone = _open(browser, url, "winddown-patient", width=390, height=844)
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 2, f"the library is {overflow}px wider than a phone"
    _shot(phone, "library-phone")
    phone.context.close()


def test_the_console_shows_which_pieces_helped(browser, server):
    url, ctx = server
    helped = _piece(ctx, "console-patient", seed=1, rated=True)
    unrated = _piece(ctx, "console-patient", seed=2)
    patient = ctx.store.patient_for_code("console-patient")
    ctx.store.set_favourite(patient, helped, True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(60_000)
    page.goto(url + "/console", wait_until="load")
    page.get_by_label("Username").fill(CLINICIAN)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("tab", name="Patients").click()
    page.locator("#patient-pick input").click()
    page.get_by_role("option", name=re.compile("^" + patient[:8])).click()
    page.get_by_role("button", name="Which pieces helped").click()
    table = page.locator("#helped-table")
    table.get_by_test_id("cell-1-3").wait_for()  # two rows: the piece column of the second
    text = table.inner_text()
    assert table.get_by_test_id("cell-0-3").inner_text().strip() == helped[:8]  # most helpful first
    assert table.get_by_test_id("cell-1-3").inner_text().strip() == unrated[:8]
    assert "★" in text and "7 → 3 (-4)" in text and "not rated" in text
    page.locator("#helped-summary").get_by_text("1 of them helped").wait_for()
    actors = {(a["actor"], a["record"]) for a in ctx.store.audit_log(patient)}
    assert {(f"clinician:{CLINICIAN}", "pieces"), (f"clinician:{CLINICIAN}", "ratings")} <= actors
    SHOTS.mkdir(parents=True, exist_ok=True)
    time.sleep(0.5)
    page.screenshot(path=str(SHOTS / "console-helped.png"), full_page=True)
    page.close()
