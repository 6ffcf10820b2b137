"""The patient page on a phone (360 and 390 px wide), in Debian's Chromium.

What a person on a phone meets at once: the header fits, nothing covers
Send, the music is one tap away from the chat, a crisis reply keeps its
question in view, each message is its own bubble, and the piece's picture
is readable. Screenshots go to /tmp/attune-shots for the README.
"""

from __future__ import annotations

import pytest

from tests.ui_helpers import SHOTS, echo_backend, running_app, send, wait_for_turn

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(400)]

COVERED_JS = """(sel) => {  // the centre and four corners (3 px in) of an element: what is drawn there?
  const el = document.querySelector(sel); const r = el.getBoundingClientRect();
  const points = [[r.left + r.width / 2, r.top + r.height / 2], [r.left + 3, r.top + 3], [r.right - 3, r.top + 3],
                  [r.left + 3, r.bottom - 3], [r.right - 3, r.bottom - 3]];
  for (const [x, y] of points) {
    const hit = document.elementFromPoint(x, y);
    if (hit === null) return 'nothing';
    if (!el.contains(hit)) return String(hit.className || hit.tagName);
  }
  return '';
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    from attune.agent.config import load_settings
    from attune.agent.context import AppContext

    settings = load_settings(data_dir=tmp_path_factory.mktemp("phone-data"), llm="scripted")
    ctx = AppContext.create(settings, backend=echo_backend())
    with running_app(ctx) as url:
        yield url
    ctx.store.close()


def _phone(browser, url: str, width: int):
    # a plain narrow viewport: a phone's browser would zoom out to fit anything wider, hiding an overflow
    context = browser.new_context(viewport={"width": width, "height": 740 if width == 360 else 844},
                                  has_touch=True, device_scale_factor=2)
    page = context.new_page()
    page.set_default_timeout(60_000)
    page.goto(url, wait_until="load")
    page.get_by_label("Your message").wait_for()
    return context, page


@pytest.mark.parametrize("width", [360, 390])
def test_the_header_fits_and_nothing_covers_send(browser, server, width):
    context, page = _phone(browser, server, width)
    help_link = page.locator(".topbar .help-link")
    box = help_link.bounding_box()
    bar = page.locator(".topbar").bounding_box()
    assert box["x"] + box["width"] <= min(width, bar["x"] + bar["width"]) + 1, "Get help now spills out of the header"
    assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 2
    send(page, "hello")
    wait_for_turn(page)
    for y in (0, 300, 600, 900):  # wherever the page is scrolled, Send and its neighbours are never covered
        for sel in ("#send", "#end-session", "#message textarea"):
            page.evaluate(f"window.scrollTo(0, {y})")
            page.locator(sel).scroll_into_view_if_needed()
            assert page.evaluate(COVERED_JS, sel) == "", f"something covers {sel}"
    page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
    assert page.get_by_role("link", name="Get help now (always here)").is_visible()  # help after scrolling
    context.close()


def test_music_is_one_tap_from_the_chat_in_its_own_bubble_and_readable(browser, server):
    context, page = _phone(browser, server, 390)
    send(page, "hello")
    wait_for_turn(page)
    before = page.locator("#chat [data-testid=bot]").count()
    send(page, "I'm tense, could you play me something calm?")
    page.locator("#music audio").first.wait_for(timeout=180_000)
    wait_for_turn(page)
    bots = page.locator("#chat [data-testid=bot]")
    assert bots.count() == before + 2, "the reply and the piece's note share one bubble"
    page.get_by_role("link", name="go to Your music").click()
    page.wait_for_function("(() => { const r = document.querySelector('#music').getBoundingClientRect();"
                           " return r.top >= -2 && r.top < window.innerHeight / 2; })()")
    roll = page.locator("#music img.roll").first
    roll.wait_for()
    page.wait_for_function("document.querySelector('#music img.roll').naturalWidth > 0")
    shown = roll.bounding_box()
    assert shown["width"] >= 600, f"the piano roll is drawn {shown['width']:.0f}px wide: too small to read"
    overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 2, f"the page is {overflow}px wider than the phone"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-music.png"))
    context.close()


def test_a_crisis_reply_keeps_its_question_in_view(browser, server):
    context, page = _phone(browser, server, 390)
    send(page, "hello")
    wait_for_turn(page)
    send(page, "I want to end my life")
    wait_for_turn(page)
    page.locator("#crisis-banner .crisis-banner").wait_for()
    question = page.locator("#chat [data-testid=bot]").last.get_by_text("Are you safe right now?", exact=False)
    page.wait_for_timeout(3000)  # past the chat's own late autoscroll and the page's re-scrolls
    page.wait_for_function("""(() => { const bots = document.querySelectorAll('#chat [data-testid=bot]');
        const r = bots[bots.length - 1].getBoundingClientRect(); return r.top >= -2 && r.top < window.innerHeight; })()""")
    box = question.bounding_box()
    assert box and 0 <= box["y"] and box["y"] + box["height"] <= 844, f"the question is out of view: {box}"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "phone-crisis.png"))
    context.close()
