"""The patient page: streamed chat, pieces, mood checks, heart, voice, face and EEG, My music, crisis help.

Everything here consumes the one turn stream (``run_turn``) and the small
service functions; no decision about safety or music is made in the UI.
Each browser is its own patient: on first visit it gets a random anonymous
code, kept in the browser's localStorage (``gr.BrowserState``) and shown
with an offer to write it down, so no two visitors ever share a greeting, a
library or a memory. Each tab holds its ``SessionRef`` in server-side
``gr.State``; a patient coming back from another device, or with a code from
a clinician, types that code. "End session" closes a session as a goodbye does.
Errors the person can act on (``AttuneError``) are shown as they are;
anything else is logged and shown as a plain apology, and the page keeps
working (``actions``). The opt-in face and EEG inputs are in ``senses``.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any, Iterator

from attune.agent import codes, library, service
from attune.agent.context import AppContext, SessionRef
from attune.common.errors import AttuneError
from attune.agent.events import Notice, Reply, ReplyDelta, Screened, ToolCalled, ToolResult, TurnDone, TurnFailed
from attune.agent.turn import run_turn

from . import senses, views
from .actions import UNEXPECTED, SessionLocks, attempt, guarded

__all__ = ["build_patient_page", "INTRO", "Visitor", "visitor_code", "CODE_KEY"]

log = logging.getLogger(__name__)

INTRO = ("Attune is an AI companion for music and relaxation. It is self-help, not therapy, and it "
         "cannot diagnose. If you are in danger, use **Get help now** at the top of the page.")
COMPOSING = "Composing your music… this takes a few seconds."
REPLAY_JS = ("watch('value', () => { const a = element.querySelector('audio[autoplay]');"
             " if (a) { a.currentTime = 0; a.play().catch(() => {}); } });")
# the floating Help button shows only once the header's "Get help now" has scrolled out of view, so
# it never sits over the header, and on a phone it stays at the top edge, away from Send
HELP_FAB_JS = ("const fab = element.querySelector('.help-fab'); const bar = element.querySelector('.topbar');"
               " if (fab && bar && 'IntersectionObserver' in window) { fab.classList.add('watching');"
               " new IntersectionObserver(([e]) => fab.classList.toggle('shown', !e.isIntersecting)).observe(bar); }")
# after a crisis reply, its beginning (the acknowledgement and "Are you safe right now?") is brought
# into view: the chat scrolls to its end, which on a phone leaves the question above the screen
# (again a few times: the chat's own autoscroll can run late, after images and Markdown have laid out)
CRISIS_SCROLL_JS = ("() => { const show = () => { if (!document.querySelector('#crisis-banner .crisis-banner')) return;"
                    " const bots = document.querySelectorAll('#chat [data-testid=bot]');"
                    " const last = bots[bots.length - 1]; if (last) last.scrollIntoView({block: 'start'}); };"
                    " for (const ms of [300, 800, 1500, 2500]) setTimeout(show, ms); }")
LIBRARY_SHOWN = 30  # newest pieces listed with their buttons (each is a handful of components)
STORE_WAIT_S = 2.0  # seconds a message waits for a reading being stored (that takes well under a second)
CODE_KEY = "attune-patient-code"  # the localStorage key of this browser's anonymous code
# Gradio sends a BrowserState's secret to the browser with the page, so it hides nothing from the person
# who holds the browser; a fixed one keeps the code readable after the server restarts (a random one per
# start, Gradio's default, would hand every browser a new, empty patient after each restart).
CODE_SECRET = "attune-browser-code-v1"
ENDED = "Your session has ended. Write again whenever you like to start a new one."


@dataclass(frozen=True)
class Visitor:
    """A tab's patient before a session starts: the first action (message, rating, library) starts one.

    ``code`` is the browser's anonymous code: its patient is made on first use,
    so a page that is only opened leaves nothing behind. ``patient_id`` is a
    patient who has just ended a session, whatever code they came with.
    """

    code: str | None = None
    patient_id: str | None = None


def visitor_code(saved: Any) -> str:
    """This browser's anonymous code: the one it kept, or a new random one.

    What a browser sends is not trusted: only a code exactly as
    ``codes.new_patient_code`` writes an anonymous one is kept, so no
    browser can claim the command line's shared ``LOCAL_PATIENT_CODE`` or a
    clinician's code by editing its storage.
    """
    return saved if codes.is_anonymous_code(saved) else codes.new_patient_code(codes.ANONYMOUS_GROUPS)


def _resources(ctx: AppContext, locale: str | None = None) -> list:
    from attune.agent.safety.crisis import resources_for

    return resources_for(locale or ctx.settings.locale)


def build_patient_page(ctx: AppContext, gr, blocks) -> None:
    """Lay out the patient page inside ``blocks`` (the app being built) and wire its events."""
    root = ctx.settings.pieces_dir
    limit = ctx.settings.gradio_concurrency
    locale = ctx.settings.locale

    locks = SessionLocks()

    def ensure(ref: SessionRef | Visitor | None) -> SessionRef:
        """The tab's session, started now if it has none yet (never the command line's shared patient)."""
        if isinstance(ref, SessionRef):
            return ref
        if isinstance(ref, Visitor) and ref.patient_id:
            return ctx.new_session(ref.patient_id)
        if isinstance(ref, Visitor) and ref.code:
            return ctx.start_session(ref.code)
        # no code from a browser: an API client (which runs no page load), or a click before the load
        # finished; a patient of its own, whose code nobody holds, rather than anyone else's
        return ctx.start_session(visitor_code(None))

    # --- layout -------------------------------------------------------------
    gr.HTML("<header class='topbar'><span class='brand'>Attune</span>"
            "<nav class='top-links'><a class='lib-link' href='#library'>My music</a>"
            "<a class='help-link' href='#attune-help'>Get help now</a></nav></header>"
            "<a class='help-link help-fab' href='#attune-help' aria-label='Get help now (always here)'>Help</a>",
            elem_id="attune-top", js_on_load=HELP_FAB_JS)
    crisis = gr.HTML("", elem_id="crisis-banner", js_on_load=None)
    gr.Markdown(INTRO, elem_classes=["intro"])

    ref_state = gr.State(None)       # this tab's SessionRef, or a Visitor until its session starts
    pieces_state = gr.State([])      # [{"music": {...}, "sources": [...]}] for this session
    code_store = gr.BrowserState(None, storage_key=CODE_KEY, secret=CODE_SECRET)  # this browser's own code

    your_code = gr.HTML("", elem_id="your-code", js_on_load=None)
    with gr.Accordion("Returning? Continue with your personal code", open=False, elem_id="code-box"):
        with gr.Row():
            code = gr.Textbox(label="Personal code", info="The code this page showed you, or one from your clinician",
                              type="password", max_lines=1, elem_id="patient-code", scale=2)
            wanted = gr.Textbox(label="Session to continue (optional)", max_lines=1,
                                placeholder="Leave empty for your latest session", elem_id="session-id", scale=2)
        code_btn = gr.Button("Continue my sessions", elem_id="code-btn")
        code_msg = gr.HTML("", elem_id="code-msg", js_on_load=None)

    with gr.Row(equal_height=False, elem_classes=["main-row"]):
        with gr.Column(scale=3, min_width=300):
            chat = gr.Chatbot(label="Conversation with Attune", height=460, elem_id="chat",
                              feedback_options=None, group_consecutive_messages=False, placeholder="Say hello, or tell Attune how you feel.")
            box = gr.Textbox(label="Your message", placeholder="How are you feeling right now?", lines=2,
                             max_lines=8, elem_id="message", autofocus=True)
            with gr.Row(elem_classes=["send-row"]):
                send = gr.Button("Send", variant="primary", elem_id="send", scale=2, min_width=120)
                end_btn = gr.Button("End session", variant="secondary", elem_id="end-session", scale=1,
                                    min_width=160)  # pixels: the words stay on one line on a phone
            notice = gr.HTML("", elem_id="notice", js_on_load=None)
            busy = gr.HTML("", elem_id="progress", js_on_load=None)
        with gr.Column(scale=2, min_width=280):
            pacer = gr.HTML("", elem_id="pacer", js_on_load=None)
            music = gr.HTML("", elem_id="music", js_on_load=None)
            with gr.Accordion("Quick mood check", open=True, elem_id="mood-check"):
                gr.Markdown("Before you play a piece, and again after, move the sliders to how you feel right "
                            "now and save. Both ratings together show what the piece changed.")
                rate_for = gr.Dropdown([], value=None, label="This rating is for", elem_id="rate-for",
                                       info="The newest piece is chosen; pick another to rate it instead.")
                val = gr.Slider(1, 9, value=5, step=1, label="Mood: 1 very unhappy, 9 very happy",
                                elem_id="sam-valence")
                aro = gr.Slider(1, 9, value=5, step=1, label="Energy: 1 very calm, 9 very wound up",
                                elem_id="sam-arousal")
                suds = gr.Slider(0, 10, value=5, step=1, label="Distress: 0 none, 10 the worst you can imagine",
                                 elem_id="suds")
                liking = gr.Radio(["1", "2", "3", "4", "5"], value=None, elem_id="liking",
                                  label="After a piece: how much did you like it? (1 not at all, 5 very much)")
                with gr.Row():
                    pre_btn = gr.Button("Save: before the music", elem_id="rate-pre")
                    post_btn = gr.Button("Save: after the music", elem_id="rate-post")
                rate_msg = gr.HTML("", elem_id="rate-msg", js_on_load=None)
            with gr.Accordion("Heart rate and voice (optional)", open=False, elem_id="signals"):
                hr = gr.Number(label="Heart rate (beats per minute)", precision=0,
                               elem_id="heart-rate")
                hr_btn = gr.Button("Add heart rate", elem_id="hr-btn")
                hr_file = gr.File(label="Heart-rate or RR-interval file (CSV export)",
                                  file_types=[".csv", ".txt", ".tsv"], elem_id="hr-file")
                voice = gr.Audio(sources=["microphone"], type="filepath", elem_id="voice",
                                 label="Voice note: say a sentence or two about how you feel")
                voice_btn = gr.Button("Use my voice note", elem_id="voice-btn")
                signal_msg = gr.HTML("", elem_id="signal-msg", js_on_load=None)
            senses.build_senses(ctx, gr, ref_state, ensure, locks)

    with gr.Column(elem_id="library", elem_classes=["library"]):
        gr.HTML("<h2>My music</h2><p>Every piece you have heard, newest first, with how you felt before and "
                "after. Star the ones you like, play one again, or ask for more like it.</p>", js_on_load=None)
        with gr.Row(elem_classes=["lib-actions"]):
            lib_show = gr.Button("Show my music", elem_id="library-show", scale=0, min_width=200)
            wind_btn = gr.Button("Make a wind-down playlist", elem_id="winddown", scale=0, min_width=300)
            fav_only = gr.Checkbox(False, label="Only favourites", elem_id="library-favourites", scale=0,
                                   min_width=180)
        lib_msg = gr.HTML("", elem_id="library-msg", js_on_load=None)
        # the page keeps the same <audio> element across updates, so a second Replay restarts it here
        now = gr.HTML("", elem_id="now-playing", js_on_load=REPLAY_JS)
        playlist_box = gr.HTML("", elem_id="playlist", js_on_load=None)
        lib_state = gr.State(None)  # list[LibraryEntry] once shown; None before
        with gr.Column(elem_id="library-list"):
            # one card and its buttons per piece, drawn again whenever the list changes; the handlers
            # (favourite, play_again, more_like) are defined with the others below
            @gr.render(inputs=[lib_state, fav_only])
            def _library_list(entries, only_favourites):
                if entries is None:
                    return
                shown = [e for e in entries if e.favourite or not only_favourites]
                if not shown:
                    empty = "No favourites yet: press ☆ on a piece you like." if entries else "No pieces yet."
                    gr.HTML(f"<p class='lib-empty'>{empty}</p>", js_on_load=None)
                    return
                dates = {e.id: views.when(e.created_at) for e in entries}
                if len(shown) > LIBRARY_SHOWN:
                    gr.HTML(f"<p class='lib-more'>The newest {LIBRARY_SHOWN} of {len(shown)} pieces.</p>",
                            js_on_load=None)
                for entry in shown[:LIBRARY_SHOWN]:
                    library_item(entry, dates)

    def library_item(entry, dates: dict) -> None:
        """One piece in the list: its card, then Favourite, Replay and More like this."""
        key, short = entry.id, entry.id[:8]
        with gr.Column(elem_classes=["lib-item"], key=f"item-{key}"):
            gr.HTML(views.library_card(entry, root, dates), js_on_load=None, key=f"card-{key}")
            with gr.Row(elem_classes=["lib-buttons"]):
                small = {"size": "sm", "scale": 0, "min_width": 170}
                star = gr.Button("★ Favourite" if entry.favourite else "☆ Add to favourites",
                                 variant="primary" if entry.favourite else "secondary",
                                 elem_id=f"fav-{short}", elem_classes=["lib-fav"], key=f"fav-{key}", **small)
                again = gr.Button("Replay", elem_id=f"replay-{short}", key=f"replay-{key}", **small)
                more = gr.Button("More like this", elem_id=f"more-{short}", key=f"more-{key}", **small)
        private = {"concurrency_limit": limit, "api_visibility": "private"}
        star.click(favourite(entry.id, not entry.favourite), [ref_state], [lib_state, lib_msg, ref_state], **private)
        again.click(play_again(entry.id), [ref_state], [now, lib_msg, ref_state], **private)
        more.click(more_like(entry.id), [ref_state], [now, lib_state, lib_msg, ref_state], concurrency_id="compose",
                   show_progress="hidden", **private)

    gr.HTML(views.help_panel(_resources(ctx), locale), elem_id="attune-help", js_on_load=None)

    # --- handlers -------------------------------------------------------------
    def respond(message: str, history: list, ref: SessionRef | None, pieces: list,
                shown: list | None) -> Iterator[dict]:
        history = [{"role": m["role"], "content": m["content"]} for m in (history or [])]
        pieces = list(pieces or [])
        if not (message or "").strip():
            yield {notice: views.status("Type a message first.", "error")}
            return
        try:
            ref = ensure(ref)
        except AttuneError as exc:
            yield {notice: views.status(str(exc), "error")}
            return
        lock = locks.get(ref.session_id)
        if not lock.acquire(timeout=STORE_WAIT_S):  # a reading being stored finishes first
            yield {notice: views.status("Attune is still replying to your last message; send this one after it.",
                                        "error"), ref_state: ref}
            return
        try:
            yield from turn(message, history, ref, pieces, shown)
        finally:
            lock.release()

    def turn(message: str, history: list, ref: SessionRef, pieces: list, shown: list | None) -> Iterator[dict]:
        history += [{"role": "user", "content": message}, {"role": "assistant", "content": ""}]
        yield {box: "", chat: history, ref_state: ref, notice: "", busy: views.progress("Attune is replying…")}
        try:
            for ev in run_turn(ctx, ref, message):
                if isinstance(ev, ReplyDelta):
                    history[-1]["content"] += ev.text
                    yield {chat: history}
                elif isinstance(ev, Reply):
                    history[-1]["content"] = ev.text
                    yield {chat: history}
                elif isinstance(ev, Screened) and ev.action == "crisis":
                    # show help at once, before any reply is written
                    yield {crisis: views.crisis_banner(_resources(ctx), locale)}
                elif isinstance(ev, ToolCalled) and ev.name == "compose_music":
                    yield {busy: views.progress(COMPOSING)}
                elif isinstance(ev, ToolResult) and ev.name == "compose_music":
                    yield {busy: views.progress("Attune is replying…")}
                elif isinstance(ev, Notice):
                    yield {notice: views.status(ev.message, "error")}
                elif isinstance(ev, TurnFailed):  # a clear message in the chat, the words back in the box
                    history[-1]["content"] = f"⚠️ {ev.message}"
                    yield {chat: history, box: message, busy: ""}
                elif isinstance(ev, TurnDone):
                    out: dict[Any, Any] = {chat: history, busy: ""}
                    if ev.reply and history[-1]["content"] != ev.reply:
                        history[-1]["content"] = ev.reply
                    if ev.crisis_cleared:
                        out[crisis] = ""  # they said they are safe; help stays one tap away at the top
                    elif ev.action == "crisis" or ev.crisis:
                        c = ev.crisis or {}
                        out[crisis] = views.crisis_banner(c.get("resources") or _resources(ctx),
                                                          c.get("locale") or locale)
                    if ev.music:
                        pieces.append({"music": ev.music, "sources": ev.sources or []})
                        history.append({"role": "assistant",
                                        "content": "Your piece is ready: [go to Your music](#music). Rate how "
                                                   "you feel before you press play, and again after."})
                        out[rate_for] = gr.update(choices=views.rating_choices(pieces),
                                                  value=ev.music.get("piece_id"))
                        out.update({pieces_state: pieces, music: views.pieces_panel(pieces, root),
                                    pacer: views.pacer(ev.music.get("breaths_per_minute"))})
                        if shown is not None:  # a library on screen gets the new piece at the top
                            out[lib_state] = library.library(ctx, ref)
                    yield out
        except AttuneError as exc:  # a clear message in the chat; the server keeps serving
            history[-1]["content"] = f"⚠️ {exc}"
            yield {chat: history, box: message, busy: ""}
        except Exception:
            log.exception("turn failed")
            history[-1]["content"] = f"⚠️ {UNEXPECTED}"
            yield {chat: history, box: message, busy: ""}

    turn_outputs = [box, chat, ref_state, pieces_state, music, busy, crisis, pacer, notice, lib_state, rate_for]
    for trigger in (send.click, box.submit):
        trigger(respond, [box, chat, ref_state, pieces_state, lib_state], turn_outputs, concurrency_limit=limit,
                concurrency_id="turn", show_progress="hidden", api_name="respond" if trigger == send.click else None,
                api_visibility="public" if trigger == send.click else "private"
                ).then(None, None, None, js=CRISIS_SCROLL_JS, api_visibility="private")

    def continue_code(code_text: str, session_text: str, ref: SessionRef | Visitor | None) -> dict:
        code_text, session_text = (code_text or "").strip(), (session_text or "").strip()
        if not code_text:
            return {code_msg: views.status("Enter your personal code first.", "error")}
        try:
            new_ref = service.returning_session(ctx, code_text, session_text)
            history = [{"role": m["role"], "content": m["content"]}
                       for m in service.session_history(ctx, new_ref)]
            pieces = [{"music": {**p, "piece_id": p.get("piece_id") or p.get("id")}, "sources": p.get("sources") or []}
                      for p in service.patient_pieces(ctx, new_ref) if p.get("session_id") == new_ref.session_id]
            entries = library.library(ctx, new_ref)
        except AttuneError as exc:
            return {code_msg: views.status(str(exc), "error")}
        except Exception:
            log.exception("continue with code failed")
            return {code_msg: views.status(UNEXPECTED, "error")}
        last_bpm = (pieces[-1]["music"].get("breaths_per_minute") if pieces else None)
        msg = "Welcome back. Your conversation continues below." if history else "Welcome. Your new session has started."
        return {ref_state: new_ref, chat: history, pieces_state: pieces, music: views.pieces_panel(pieces, root),
                pacer: views.pacer(last_bpm), code: "", code_msg: views.status(msg), crisis: "",
                lib_state: entries, now: "", playlist_box: "", lib_msg: "", your_code: views.code_entered(),
                rate_for: gr.update(choices=views.rating_choices(pieces),
                                    value=pieces[-1]["music"]["piece_id"] if pieces else None)}

    code_btn.click(continue_code, [code, wanted, ref_state],
                   [ref_state, chat, pieces_state, music, pacer, code, code_msg, crisis, lib_state, now,
                    playlist_box, lib_msg, your_code, rate_for],
                   concurrency_limit=limit, api_visibility="private")

    # --- this browser's own patient, and ending a session ----------------------------
    def start_visit(saved: Any) -> dict:
        """On page load: this browser's code (kept, or made now and stored in the browser), shown."""
        own = visitor_code(saved)
        return {code_store: own if own != saved else gr.skip(), ref_state: Visitor(code=own),
                your_code: views.code_line(own)}

    blocks.load(start_visit, [code_store], [code_store, ref_state, your_code], concurrency_limit=limit,
              api_visibility="private", show_progress="hidden")

    def end_session(history: list, ref: SessionRef | Visitor | None) -> dict:
        if not isinstance(ref, SessionRef):
            return {notice: views.status("There is no session to end yet: say hello first.", "info")}
        text, error = guarded(lambda: in_session(ref, lambda: service.end_session(ctx, ref)))
        if error:
            return {notice: error}
        history = [{"role": m["role"], "content": m["content"]} for m in (history or [])]
        history.append({"role": "assistant", "content": text})
        # the next message starts a new session of the same patient, whatever code they came with
        return {chat: history, ref_state: Visitor(patient_id=ref.patient_id), pieces_state: [],
                notice: views.status(ENDED), busy: "", rate_for: gr.update(choices=[], value=None)}

    end_btn.click(end_session, [chat, ref_state], [chat, ref_state, pieces_state, notice, busy, rate_for],
                  concurrency_limit=limit, api_visibility="private", show_progress="hidden")

    def make_rate(phase: str):
        def rate(v, a, s, like, piece_id, ref):
            ref = ensure(ref)
            saved: list[str] = []

            def call() -> str:
                # without a chosen piece the service rates the session's current one (the newest, or a replay)
                with locks.held(ref.session_id):  # a self-rating joins the session's state, as readings do
                    r = service.rate(ctx, ref, phase, sam_valence=v, sam_arousal=a, suds=s, piece_id=piece_id or None,
                                     liking=(float(like) if like and phase == "post" else None))
                saved.append(r.get("piece_id") or "")
                if phase == "pre":
                    return "Saved how you feel before this piece. After listening, rate again and save."
                if not r.get("measured"):
                    return ("Saved how you feel after this piece. With no rating from before it, this shows how "
                            "you feel now, not what the piece changed.")
                return "Saved how you feel after this piece. Thank you."
            out: dict[Any, Any] = {rate_msg: attempt(call), ref_state: ref}
            if saved:  # a saved rating clears the sliders, so the next one starts fresh
                out.update({val: 5, aro: 5, suds: 5, liking: None})
            return out
        return rate

    for btn, phase in ((pre_btn, "pre"), (post_btn, "post")):
        btn.click(make_rate(phase), [val, aro, suds, liking, rate_for, ref_state],
                  [rate_msg, ref_state, val, aro, suds, liking], concurrency_limit=limit, api_name=f"rate_{phase}")

    def add_hr(bpm, ref):
        ref = ensure(ref)
        if bpm is None:
            return {signal_msg: views.status("Enter your heart rate in beats per minute first.", "error")}

        def call() -> str:
            with locks.held(ref.session_id):
                r = service.add_heart_rate(ctx, ref, bpm)
            return f"Heart rate {r.get('heart_rate', bpm):g} beats per minute saved."
        return {signal_msg: attempt(call), ref_state: ref}

    def add_file(path, ref):
        if not path:
            return {}
        ref = ensure(ref)

        def call() -> str:
            with locks.held(ref.session_id):
                r = service.add_heart_file(ctx, ref, path)
            hr_value = r.get("heart_rate")
            extra = f" (average {float(hr_value):.0f} beats per minute)" if hr_value else ""
            return f"Heart file read and saved{extra}."
        return {signal_msg: attempt(call), ref_state: ref}

    def add_voice(path, ref):
        if not path:
            return {signal_msg: views.status("Record a voice note first (press the microphone).", "error")}
        ref = ensure(ref)

        def call() -> str:
            with locks.held(ref.session_id):
                service.add_voice(ctx, ref, path)
            return "Voice note used to sense your mood; only the mood it suggests is saved."
        return {signal_msg: attempt(call), ref_state: ref}

    hr_btn.click(add_hr, [hr, ref_state], [signal_msg, ref_state], concurrency_limit=limit, api_visibility="private")
    hr_file.upload(add_file, [hr_file, ref_state], [signal_msg, ref_state], concurrency_limit=limit,
                   api_visibility="private")
    voice_btn.click(add_voice, [voice, ref_state], [signal_msg, ref_state], concurrency_limit=limit,
                    api_visibility="private")

    # --- My music ------------------------------------------------------------------
    def show_library(ref):
        ref = ensure(ref)
        entries, error = guarded(lambda: library.library(ctx, ref))
        if error:
            return {lib_msg: error, ref_state: ref}
        return {lib_state: entries, ref_state: ref,
                lib_msg: "" if entries else views.status("No pieces yet: ask Attune for some music first.")}

    lib_show.click(show_library, [ref_state], [lib_state, lib_msg, ref_state], concurrency_limit=limit,
                   api_visibility="private")

    def favourite(piece_id: str, on: bool):
        def run(ref):
            ref = ensure(ref)

            def call() -> list:
                library.set_favourite(ctx, ref, piece_id, on)
                return library.library(ctx, ref)
            entries, error = guarded(call)
            if error:
                return {lib_msg: error, ref_state: ref}
            done = "Added to your favourites." if on else "Removed from your favourites."
            return {lib_state: entries, lib_msg: views.status(done), ref_state: ref}
        return run

    def in_session(ref: SessionRef, fn):
        """Run ``fn`` holding the session's lock: a replay or a new piece changes the session's state too."""
        with locks.held(ref.session_id):
            return fn()

    def play_again(piece_id: str):
        def run(ref):
            ref = ensure(ref)
            entry, error = guarded(lambda: in_session(ref, lambda: library.replay(ctx, ref, piece_id)))
            if error:
                return {lib_msg: error, ref_state: ref}
            return {now: views.now_playing(entry, root, autoplay=True, listen=uuid.uuid4().hex[:8]), lib_msg: "",
                    ref_state: ref}
        return run

    def more_like(piece_id: str):
        def run(ref):
            ref = ensure(ref)
            yield {lib_msg: views.progress(COMPOSING), ref_state: ref}
            made, error = guarded(lambda: in_session(ref, lambda: (library.more_like_this(ctx, ref, piece_id),
                                                                      library.library(ctx, ref))))
            if error:
                yield {lib_msg: error}
                return
            yield {now: views.now_playing(made[0], root, label="New piece"), lib_state: made[1],
                   lib_msg: views.status("A new piece like it is ready. Rate how you feel before you press play.")}
        return run

    def wind_down(ref):
        ref = ensure(ref)
        yield {lib_msg: views.progress("Composing three pieces for your wind-down… this takes a little while."),
               ref_state: ref}
        made, error = guarded(lambda: in_session(ref, lambda: (library.wind_down_playlist(ctx, ref),
                                                                  library.library(ctx, ref))))
        if error:
            yield {lib_msg: error}
            return
        yield {playlist_box: views.playlist_panel(made[0], root), lib_state: made[1],
               lib_msg: views.status("Your wind-down playlist is ready: play it here or download it.")}

    wind_btn.click(wind_down, [ref_state], [lib_msg, playlist_box, lib_state, ref_state], concurrency_limit=limit,
                   concurrency_id="compose", show_progress="hidden", api_visibility="private")
