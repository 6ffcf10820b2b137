"""Two browsers without a personal code are two patients (Debian's Chromium).

A browser that comes without a code gets its own anonymous code, kept in its
localStorage. Two browser contexts (separate storage, like two people's
devices) chat, hear and rate a piece, end a session, come back, and open My
music: neither sees the other's greeting, pieces, ratings or memory, and the
clinician console lists them as two patients. A third device reaches the
first patient only by typing the code written down. The page is photographed with
its code line and End session button (SHOTS).
"""

from __future__ import annotations

import re

import pytest

from tests.ui_helpers import SHOTS, chat_text, echo_backend, last_reply, running_app, send, wait_for_turn

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(600)]

CLINICIAN, PASSWORD = "dr.lee", "correct horse battery staple"
PROFILE = "name: default\npiece_seconds: 20\n"  # seconds: the shortest piece a profile allows
MUSIC = "I'm feeling tense. Could you play me some calm music?"
CODE = re.compile(r"^[A-HJ-NP-Z2-9]{4}(-[A-HJ-NP-Z2-9]{4}){3}$")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext
    from attune.ui.auth import create_user

    folder = tmp_path_factory.mktemp("anon-data")
    (folder / "profiles").mkdir()
    (folder / "profiles" / "default.yaml").write_text(PROFILE, encoding="utf-8")
    ctx = AppContext.create(load_settings(data_dir=folder, llm="scripted"), backend=echo_backend())
    create_user(ctx.store, CLINICIAN, PASSWORD, "clinician")
    with running_app(ctx) as url:
        yield url, ctx
    ctx.store.close()


def _open(browser, url: str, width: int = 1280, height: int = 900):
    """A new browser (its own storage) on the patient page; its page once the code line shows."""
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load")
    page.locator("#your-code .code").wait_for()
    return page


def _code(page) -> str:
    return page.locator("#your-code .code").inner_text().strip()


def _come_back(page) -> None:
    """The same browser opens the page again later (its storage kept, a new tab state)."""
    page.reload(wait_until="load")
    page.locator("#your-code .code").wait_for()


def _greeting(page) -> str:
    send(page, "hello")
    wait_for_turn(page)
    return last_reply(page)


def _library(page) -> str:
    page.get_by_role("button", name="Show my music").click()
    page.locator("#library-list .lib-piece, #library-list .lib-empty").first.wait_for()
    return page.locator("#library-list").inner_text()


def _shot(page, name: str) -> None:
    """The top of the page (the code line) and the whole page."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SHOTS / f"{name}.png"))
    page.screenshot(path=str(SHOTS / f"{name}-full.png"), full_page=True)


def test_two_browsers_without_a_code_are_two_patients(browser, server):
    from attune.agent.context import LOCAL_PATIENT_CODE

    url, ctx = server
    a, b = _open(browser, url), _open(browser, url)
    code_a, code_b = _code(a), _code(b)
    assert CODE.match(code_a) and CODE.match(code_b) and code_a != code_b
    assert "Write it down" in a.locator("#your-code").inner_text()
    assert ctx.store.patient_for_code(code_a, create=False) is None  # opening the page keeps nothing

    # A: greeted as new, hears a piece, rates it before and after, ends the session
    assert "Welcome back" not in _greeting(a)
    send(a, MUSIC)
    a.locator("#music audio").first.wait_for(timeout=240_000)
    wait_for_turn(a)
    a.get_by_role("button", name="Save: before the music").click()
    a.locator("#rate-msg").get_by_text("Saved how you feel before this piece.").wait_for()
    a.get_by_text("5", exact=True).last.click()  # liking: very much
    a.get_by_role("button", name="Save: after the music").click()
    a.locator("#rate-msg").get_by_text("Saved how you feel after this piece.").wait_for()
    _shot(a, "anonymous-desktop")
    a.get_by_role("button", name="End session").click()
    a.locator("#notice").get_by_text("Your session has ended.").wait_for()
    goodbye = last_reply(a)
    assert "we listened to 1 piece" in goodbye and goodbye.startswith("Thank you")
    _shot(a, "anonymous-ended")

    # B meanwhile: new too, and none of A's words, piece or rating anywhere on its page
    assert "Welcome back" not in _greeting(b)
    assert "No pieces yet" in _library(b) and b.locator("#library-list .lib-piece").count() == 0
    assert "calm music" not in chat_text(b) and b.locator("#music audio").count() == 0

    # both come back in the same browsers: A is remembered with its piece, B is still new and empty
    _come_back(a)
    _come_back(b)
    assert (_code(a), _code(b)) == (code_a, code_b)
    assert _greeting(a).startswith("Welcome back.")
    shelf = _library(a)
    assert a.locator("#library-list .lib-piece").count() == 1 and "liked 5 of 5" in shelf
    assert "Welcome back" not in _greeting(b)
    assert "No pieces yet" in _library(b) and "liked" not in b.locator("#library").inner_text()

    # A, on another device, types the written-down code (in lower case, in groups) and finds the piece
    c = _open(browser, url)
    assert _code(c) not in (code_a, code_b)
    c.get_by_text("Returning? Continue with your personal code").click()
    c.get_by_label("Personal code").fill(code_a.lower().replace("-", " "))
    c.get_by_role("button", name="Continue my sessions").click()
    c.locator("#code-msg").get_by_text("Welcome back.").wait_for()
    c.locator("#library-list .lib-piece").first.wait_for()
    assert "liked 5 of 5" in c.locator("#library-list").inner_text()
    c.context.close()

    # the console files them as two patients, and the command line's shared user was never made
    patient_a = ctx.store.patient_for_code(code_a, create=False)
    patient_b = ctx.store.patient_for_code(code_b, create=False)
    assert patient_a and patient_b and patient_a != patient_b
    assert ctx.store.patient_for_code(LOCAL_PATIENT_CODE, create=False) is None
    console = browser.new_page(viewport={"width": 1280, "height": 900})
    console.goto(url + "/console", wait_until="load")
    console.get_by_label("Username").fill(CLINICIAN)
    console.get_by_label("Password").fill(PASSWORD)
    console.get_by_role("button", name="Sign in").click()
    table = console.locator("#sessions-table")
    table.get_by_text(patient_a[:8]).filter(visible=True).first.wait_for()
    assert patient_b[:8] in table.inner_text()
    console.get_by_role("tab", name="Patients").click()
    console.locator("#patient-pick input").click()
    options = console.get_by_role("option")
    options.first.wait_for()
    listed = sorted(o.split(" · ")[0] for o in options.all_inner_texts())
    assert listed == sorted([patient_a[:8], patient_b[:8]])
    for page in (a, b, console):
        page.context.close()


@pytest.mark.parametrize("width, height, name", [(1280, 900, "desktop"), (390, 844, "phone")],
                         ids=["desktop", "phone"])
def test_the_code_line_and_end_session_fit_the_screen(browser, server, width, height, name):
    url, _ = server
    page = _open(browser, url, width, height)
    end = page.get_by_role("button", name="End session")
    end.click()  # nothing said yet: nothing to end, and the page says so
    page.locator("#notice").get_by_text("There is no session to end yet").wait_for()
    assert "Thank you" not in chat_text(page)
    line, send_box, end_box = (page.locator(sel).bounding_box() for sel in ("#your-code", "#send", "#end-session"))
    assert line and line["width"] <= width and end_box and end_box["height"] >= 40  # a thumb-sized button
    assert abs(send_box["y"] - end_box["y"]) < 2 or end_box["y"] > send_box["y"]  # beside Send, or just under it
    _shot(page, f"anonymous-code-{name}")
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 2, f"page is {overflow}px wider than the {width}px screen"
    page.context.close()
