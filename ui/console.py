"""The clinician console: sign-in, sessions, patients (with the pieces that helped), profiles, outcomes, users.

Every read of patient data goes through the store with
``actor="clinician:<name>"`` so the audit log records who saw what. The
signed-in clinician lives in server-side ``gr.State``; every action checks
it and signs out after ``IDLE_SECONDS`` without activity (a timer also hides
the console of an idle tab). What it leaves out: editing transcripts and
changing a patient's code (codes are stored only as keyed hashes).
"""

from __future__ import annotations

import json
import logging
import tempfile
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable

from attune.agent import clinic
from attune.agent.config import load_settings
from attune.agent.context import AppContext
from attune.common.errors import AttuneError, InputError, ProfileError
from attune.agent.store import open_store
from attune.prompts import list_profiles, parse_profile

from . import auth, outcomes, views

__all__ = ["build_console_page", "helped_rows", "scratch_context", "HELPED_HEADERS"]

log = logging.getLogger(__name__)


def scratch_context(ctx: AppContext, profile) -> AppContext:
    """A throwaway context (own temporary database) holding one draft profile, for test chats."""
    tmp = Path(tempfile.mkdtemp(prefix="attune-profile-test-"))
    (tmp / "profiles").mkdir()
    (tmp / "profiles" / f"{profile.name}.yaml").write_text(profile.to_yaml(), encoding="utf-8")
    data = ctx.settings.model_dump()
    data.update(data_dir=tmp, database_url=None, key_file=None, key=None, profile=profile.name)
    settings = load_settings(**data)
    return AppContext(settings=settings, store=open_store(settings), backend=ctx.backend, extras=dict(ctx.extras))


HELPED_HEADERS = ["★", "Measured change", "Made", "Piece", "Key", "Tempo (BPM)", "Instruments", "Distress (SUDS)",
                  "Mood (SAM)", "Energy (SAM)", "Liked (1-5)", "Times rated"]
_HELPED_WIDTHS = ["36px", "84px", "140px", "90px", "150px", "84px", "170px", "110px", "100px", "100px", "64px",
                  "64px"]


def _before_after(entry, key: str, name: str) -> str:
    if name not in entry.change:
        return ""
    d = entry.change[name]
    return f"{entry.pre[key]:g} → {entry.post[key]:g} ({d:+g})"


def helped_rows(entries: list) -> list[list]:
    """Table rows for "Which pieces helped" (``library.helped`` order: most benefit first)."""
    rows = []
    for e in entries:
        tempo = "" if not e.tempo_bpm else f"{e.tempo_bpm[0]:.0f}–{e.tempo_bpm[1]:.0f}"
        liked = (e.post or {}).get("liking")
        unmeasured = "after only" if e.post and not e.pre else "not rated"  # an after rating alone measures nothing
        rows.append(["★" if e.favourite else "", unmeasured if e.benefit is None else f"{e.benefit:+.2f}",
                     _when(e.created_at), _short(e.id), e.key, tempo, ", ".join(dict.fromkeys(e.instruments.values())),
                     _before_after(e, "suds", "suds"), _before_after(e, "sam_valence", "valence"),
                     _before_after(e, "sam_arousal", "arousal"), "" if liked is None else f"{liked:g}",
                     e.times_rated])
    return rows


_short = clinic.short_id


def _when(value: Any) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if isinstance(value, datetime) else str(value or "")


def build_console_page(ctx: AppContext, gr, idle_seconds: float = auth.IDLE_SECONDS) -> None:
    clinic_dir = ctx.settings.data_dir / "profiles"
    throttle = auth.Throttle()
    limit = ctx.settings.gradio_concurrency

    user_state = gr.State(None)     # auth.Clinician | None
    test_state = gr.State(None)     # (scratch AppContext, SessionRef) for the profile test chat

    gr.HTML("<header class='topbar'><span class='brand'>Attune · clinician console</span></header>",
            js_on_load=None)
    with gr.Column(visible=True, elem_id="login") as login_col:
        gr.Markdown("## Sign in\nFor clinicians and administrators. You are signed out after "
                    f"{int(idle_seconds // 60) or 1} minutes without activity.")
        username = gr.Textbox(label="Username", max_lines=1, elem_id="login-user")
        password = gr.Textbox(label="Password", type="password", max_lines=1, elem_id="login-pass")
        login_btn = gr.Button("Sign in", variant="primary", elem_id="login-btn")
    login_msg = gr.HTML("", elem_id="login-msg", js_on_load=None)

    with gr.Column(visible=False, elem_id="console-main") as main_col:
        with gr.Row():
            who = gr.Markdown("", elem_id="who")
            logout_btn = gr.Button("Sign out", size="sm", scale=0, elem_id="logout")
        with gr.Tabs():
            with gr.Tab("Sessions", elem_id="tab-sessions"):
                refresh_btn = gr.Button("Refresh", size="sm", elem_id="refresh-sessions")
                sessions_df = gr.Dataframe(headers=["Flag", "Reason", "Patient", "Session", "Profile", "Updated"],
                                           label="Sessions (flagged first)", interactive=False, wrap=True,
                                           elem_id="sessions-table")
                session_dd = gr.Dropdown(label="Session to read", choices=[], elem_id="session-pick")
                open_btn = gr.Button("Open transcript", elem_id="open-transcript")
                transcript = gr.Chatbot(label="Transcript", height=380, elem_id="transcript",
                                        feedback_options=None)
            with gr.Tab("Patients", elem_id="tab-patients"):
                with gr.Row():
                    patient_dd = gr.Dropdown(label="Patient", choices=[], elem_id="patient-pick", scale=3)
                    trends_btn = gr.Button("Show trends", scale=1, elem_id="trends-btn")
                    helped_btn = gr.Button("Which pieces helped", scale=1, elem_id="helped-btn")
                plot = gr.Plot(label="Mood and ratings", elem_id="trends-plot")
                helped_md = gr.Markdown("", elem_id="helped-summary")
                helped_df = gr.Dataframe(headers=HELPED_HEADERS, interactive=False, wrap=True, elem_id="helped-table",
                                         column_widths=_HELPED_WIDTHS,
                                         label="Pieces, most helpful first. Benefit runs from −1 to +1 (0: no change): "
                                               "distress falling, mood rising and liking the piece raise it. "
                                               "Before → after shows the latest rated listen.")
                with gr.Row():
                    json_btn = gr.Button("Export JSON", elem_id="export-json")
                    csv_btn = gr.Button("Export CSV", elem_id="export-csv")
                export_file = gr.File(label="Export (contains personal data: store it securely)",
                                      interactive=False, elem_id="export-file")
                with gr.Accordion("Erase this patient", open=False, elem_id="erase-box"):
                    gr.Markdown("Erasing deletes every session, message, rating, reading and piece of this "
                                "patient. It cannot be undone; the audit log keeps only the fact of the erasure.")
                    confirm = gr.Textbox(label="Type the patient's 8-character id to confirm", max_lines=1,
                                         elem_id="erase-confirm")
                    erase_btn = gr.Button("Erase patient", variant="stop", elem_id="erase-btn")
                with gr.Accordion("New patient code", open=False, elem_id="code-new"):
                    gr.Markdown("Give the code to the patient; it is shown once and stored only as a keyed hash.")
                    code_btn = gr.Button("Create a personal code", elem_id="code-create")
                patient_msg = gr.HTML("", elem_id="patient-msg", js_on_load=None)
            with gr.Tab("Profiles", elem_id="tab-profiles"):
                with gr.Row():
                    profile_dd = gr.Dropdown(label="Profile", choices=[], elem_id="profile-pick", scale=3)
                    load_btn = gr.Button("Open", scale=1, elem_id="profile-open")
                with gr.Row(equal_height=False):
                    with gr.Column(scale=3):
                        editor = gr.Code(label="Profile (YAML)", language="yaml", lines=22, interactive=True,
                                         elem_id="profile-editor")
                    with gr.Column(scale=2):
                        check = gr.HTML("", elem_id="profile-check", js_on_load=None)
                        validate_btn = gr.Button("Check", elem_id="profile-validate")
                        save_btn = gr.Button("Save", variant="primary", elem_id="profile-save")
                        gr.Markdown("Saved profiles go to the clinic's folder and win over a shipped profile "
                                    "of the same name. Nothing is saved while there are errors.")
                with gr.Accordion("Test-chat this draft before saving", open=False, elem_id="profile-test"):
                    test_chat = gr.Chatbot(label="Test conversation (not stored with patient data)", height=260,
                                           elem_id="test-chat", feedback_options=None)
                    test_box = gr.Textbox(label="Test message", max_lines=3, elem_id="test-msg")
                    with gr.Row():
                        test_btn = gr.Button("Send test message", elem_id="test-send")
                        test_reset = gr.Button("Restart test chat", elem_id="test-reset")
            with gr.Tab("Clinic outcomes", elem_id="tab-outcomes"):
                gr.Markdown("How often ratings improved after music, over all patients. Counts and averages only; "
                            f"withheld below {outcomes.MIN_PAIRS} rated pieces.")
                outcome_btn = gr.Button("Compute clinic outcomes", elem_id="outcomes-btn")
                outcome_md = gr.Markdown("", elem_id="outcomes")
                gr.Markdown("### Research export with differential privacy\nNoise from OpenDP's Laplace "
                            "mechanism protects each patient (patient-level, pure ε-DP). Smaller ε: more privacy, "
                            "more noise.")
                epsilon = gr.Slider(0.1, 5.0, value=1.0, step=0.1, label="Privacy budget ε (total)",
                                    elem_id="epsilon")
                dp_btn = gr.Button("Make research export", elem_id="dp-btn")
                dp_md = gr.Markdown("", elem_id="dp-summary")
                dp_file = gr.File(label="Research export (JSON and CSV)", file_count="multiple",
                                  interactive=False, elem_id="dp-file")
            with gr.Tab("Users", visible=False, elem_id="tab-users") as users_tab:
                gr.Markdown(f"Add a clinician or administrator, or reset a password "
                            f"(at least {auth.MIN_PASSWORD_CHARS} characters).")
                new_user = gr.Textbox(label="Username", max_lines=1, elem_id="new-user")
                new_pass = gr.Textbox(label="Password", type="password", max_lines=1, elem_id="new-pass")
                new_role = gr.Radio(list(auth.ROLES), value="clinician", label="Role", elem_id="new-role")
                user_btn = gr.Button("Save user", elem_id="user-save")
                user_msg = gr.HTML("", elem_id="user-msg", js_on_load=None)
    timer = gr.Timer(30)

    base = [user_state, login_col, main_col, login_msg]

    def signed_out(message: str) -> dict:
        return {user_state: None, login_col: gr.update(visible=True), main_col: gr.update(visible=False),
                login_msg: views.status(message, "error" if message else "ok") if message else ""}

    def secured(fn: Callable[..., dict]) -> Callable[..., dict]:
        """Run ``fn(user, *args)`` only for a live sign-in; errors become messages."""
        def run(user, *args):
            live = auth.alive(user, idle_seconds)
            if live is None:
                return signed_out("Signed out after a period without activity. Sign in again."
                                  if user is not None else "Sign in first.")
            live = auth.touch(live)
            try:
                out = fn(live, *args)
            except AttuneError as exc:
                out = {"_error": str(exc)}
            except Exception:
                log.exception("console action failed")
                out = {"_error": "Something went wrong; nothing was changed. The error has been logged."}
            return {user_state: live, **out}
        return run

    def on(trigger, fn, inputs, outputs, msg_box=None):
        def wrapped(user, *args):
            out = secured(fn)(user, *args)
            if "_error" in out:
                err = out.pop("_error")
                if msg_box is not None:
                    out[msg_box] = views.status(err, "error")
            return out
        outs = list(dict.fromkeys([*base, *outputs, *([msg_box] if msg_box is not None else [])]))
        # no full-page fade: the outputs include the whole console column
        trigger(wrapped, [user_state, *inputs], outs, concurrency_limit=limit, api_visibility="private",
                show_progress="hidden")

    # --- data helpers ---------------------------------------------------------
    def session_rows(user) -> tuple[list[list], list[tuple[str, str]]]:
        rows, choices = [], []
        for s in clinic.sessions(ctx, user.actor):
            corrected = s.get("flag_corrected") if s.get("flag_reason") else None
            flag = "⚑ flagged" if s["flagged"] else ("⚐ corrected" if corrected else "")
            reason = " ".join(x for x in (s.get("flag_reason"), corrected) if x)
            rows.append([flag, reason, _short(s["patient_id"]), _short(s["id"]), s["profile"], _when(s["updated_at"])])
            label = f"{'⚑ ' if s['flagged'] else ''}{_short(s['id'])} · patient {_short(s['patient_id'])} · {_when(s['updated_at'])}"
            choices.append((label, s["id"]))
        return rows, choices

    def patient_choices(user) -> list[tuple[str, str]]:
        return [(f"{_short(p['id'])} · since {_when(p['created_at'])[:10]}", p["id"])
                for p in clinic.patients(ctx, user.actor)]

    def profile_choices() -> list[str]:
        return list_profiles(clinic_dir)

    # --- sign-in ----------------------------------------------------------------
    def do_login(name, pw):
        try:
            user = auth.login(ctx.store, name, pw, throttle)
        except AttuneError as exc:
            return {login_msg: views.status(str(exc), "error"), password: ""}
        rows, choices = session_rows(user)
        return {user_state: user, login_col: gr.update(visible=False), main_col: gr.update(visible=True),
                login_msg: "", password: "",
                who: f"Signed in as **{user.username}** ({user.role}).",
                users_tab: gr.update(visible=user.is_admin),
                sessions_df: rows, session_dd: gr.update(choices=choices, value=None),
                patient_dd: gr.update(choices=patient_choices(user), value=None),
                profile_dd: gr.update(choices=profile_choices(), value=None)}

    login_outputs = base + [password, who, users_tab, sessions_df, session_dd, patient_dd, profile_dd]
    for trig in (login_btn.click, password.submit):
        trig(do_login, [username, password], login_outputs, concurrency_limit=limit, api_visibility="private",
             show_progress="hidden")
    logout_btn.click(lambda: signed_out(""), None, base, api_visibility="private")

    def tick(user):
        if user is not None and auth.alive(user, idle_seconds) is None:
            return signed_out("Signed out after a period without activity. Sign in again.")
        return {c: gr.skip() for c in base}  # still signed in: change nothing
    timer.tick(tick, [user_state], base, api_visibility="private", show_progress="hidden")

    # --- sessions ----------------------------------------------------------------
    def refresh(user):
        rows, choices = session_rows(user)
        return {sessions_df: rows, session_dd: gr.update(choices=choices)}
    on(refresh_btn.click, refresh, [], [sessions_df, session_dd])

    def open_transcript(user, sid):
        return {transcript: clinic.transcript(ctx, user.actor, sid), login_msg: ""}
    on(open_btn.click, open_transcript, [session_dd], [transcript], msg_box=login_msg)

    # --- patients ----------------------------------------------------------------
    def trends(user, pid):
        moods, ratings = clinic.mood_history(ctx, user.actor, pid)
        pairs = outcomes.pairs_from_ratings(pid, ratings)
        return {plot: outcomes.patient_figure(moods, pairs), patient_msg: ""}
    on(trends_btn.click, trends, [patient_dd], [plot, patient_msg], msg_box=patient_msg)

    def pieces_helped(user, pid):
        entries = clinic.helped(ctx, user.actor, pid)  # reads pieces and ratings as this clinician (audited)
        rated = sum(1 for e in entries if e.benefit is not None)
        helped_n = sum(1 for e in entries if (e.benefit or 0) > 0)
        favourites = sum(1 for e in entries if e.favourite)
        summary = (f"**{len(entries)}** pieces; **{rated}** rated before and after, **{helped_n}** of them helped; "
                   f"**{favourites}** favourite{'s' if favourites != 1 else ''} (★).") if entries else \
            "This patient has no pieces yet."
        return {helped_df: helped_rows(entries), helped_md: summary, patient_msg: ""}
    on(helped_btn.click, pieces_helped, [patient_dd], [helped_df, helped_md, patient_msg], msg_box=patient_msg)

    def export(kind: str):
        def run(user, pid):
            path = clinic.export_patient(ctx, user.actor, pid, kind)
            return {export_file: str(path),
                    patient_msg: views.status(f"Exported patient {_short(pid)} as {kind.upper()}.")}
        return run
    on(json_btn.click, export("json"), [patient_dd], [export_file, patient_msg], msg_box=patient_msg)
    on(csv_btn.click, export("csv"), [patient_dd], [export_file, patient_msg], msg_box=patient_msg)

    def erase(user, pid, typed):
        erased = clinic.erase_patient(ctx, user.actor, pid, typed)
        rows, choices = session_rows(user)
        return {patient_dd: gr.update(choices=patient_choices(user), value=None), confirm: "",
                sessions_df: rows, session_dd: gr.update(choices=choices, value=None), plot: None,
                helped_df: [], helped_md: "",
                patient_msg: views.status(f"Erased patient {_short(pid)}: {erased.records} records and "
                                          f"{erased.files} music files.")}
    on(erase_btn.click, erase, [patient_dd, confirm],
       [patient_dd, confirm, sessions_df, session_dd, plot, helped_df, helped_md, patient_msg], msg_box=patient_msg)

    def create_code(user):
        code, pid = clinic.new_code(ctx, user.actor)
        return {patient_dd: gr.update(choices=patient_choices(user)),
                patient_msg: views.status(f"New personal code for patient {_short(pid)}: {code}  "
                                          "(write it down now; it is not shown again).")}
    on(code_btn.click, create_code, [], [patient_dd, patient_msg], msg_box=patient_msg)

    # --- profiles ------------------------------------------------------------------
    def open_profile(user, name):
        text, where = clinic.open_profile(ctx, name)
        return {editor: text, check: views.status(f"Opened {name} ({where})."), test_state: None, test_chat: []}
    on(load_btn.click, open_profile, [profile_dd], [editor, check, test_state, test_chat], msg_box=check)

    def validate(text: str):
        try:
            return parse_profile(text or "", "profile"), None
        except ProfileError as exc:
            return None, str(exc)

    def check_profile(user, text):
        prof, err = validate(text)
        return {check: views.status(err, "error") if err else views.status(f"{prof.name}: no problems found.")}
    on(validate_btn.click, check_profile, [editor], [check], msg_box=check)

    def save_profile(user, text):
        try:
            prof = clinic.save_profile(ctx, user.actor, text)
        except ProfileError as exc:
            return {check: views.status(f"Not saved. {exc}", "error")}
        return {check: views.status(f"Saved {prof.name} to the clinic's profiles."),
                profile_dd: gr.update(choices=profile_choices(), value=prof.name)}
    on(save_btn.click, save_profile, [editor], [check, profile_dd], msg_box=check)

    def test_send(user, text, message, history, state):
        from attune.agent.turn import collect, run_turn

        prof, err = validate(text)
        if err:
            return {check: views.status(f"Fix the profile before a test chat. {err}", "error")}
        if not (message or "").strip():
            raise InputError("Type a test message first.")
        if state is None or state[2] != text:
            if state is not None:
                state[0].close()
            sctx = scratch_context(ctx, prof)
            state = (sctx, sctx.start_session("profile-test", profile=prof.name), text)
        done = collect(run_turn(state[0], state[1], message))
        extra = " [a piece was composed]" if done.music else ""
        history = list(history or []) + [{"role": "user", "content": message},
                                         {"role": "assistant", "content": f"{done.reply}{extra}"}]
        return {test_chat: history, test_box: "", test_state: state, check: ""}
    on(test_btn.click, test_send, [editor, test_box, test_chat, test_state], [test_chat, test_box, test_state, check],
       msg_box=check)
    on(test_reset.click, lambda user: {test_chat: [], test_state: None}, [], [test_chat, test_state])

    # --- clinic outcomes ---------------------------------------------------------
    def clinic_outcomes(user):
        summary = outcomes.clinic_summary(outcomes.collect_pairs(ctx.store, user.actor))
        if summary["withheld"]:
            return {outcome_md: summary["message"]}
        pct = lambda x: "n/a" if x is None else f"{100 * x:.0f}%"  # noqa: E731
        num = lambda x: "n/a" if x is None else f"{x:+.2f}"  # noqa: E731
        md = (f"**{summary['pieces_rated']}** pieces were rated before and after listening.\n\n"
              f"- Ratings improved after music: **{summary['improved']}** ({pct(summary['improved_share'])})\n"
              f"- Distress (SUDS) fell: **{summary['suds_fell']}** times\n"
              f"- Mean change in distress (SUDS, 0-10): {num(summary['mean_suds_change'])}\n"
              f"- Mean change in mood (SAM valence, 1-9): {num(summary['mean_valence_change'])}\n"
              f"- Mean change in energy (SAM arousal, 1-9): {num(summary['mean_arousal_change'])}")
        return {outcome_md: md}
    on(outcome_btn.click, clinic_outcomes, [], [outcome_md], msg_box=login_msg)

    def research(user, eps):
        release = outcomes.dp_release(outcomes.collect_pairs(ctx.store, user.actor), float(eps))
        paths = clinic.export_files(f"attune-research-eps{float(eps):g}",
                                    {"json": json.dumps(release, indent=2), "csv": outcomes.dp_csv(release)})
        return {dp_file: [str(p) for p in paths],
                dp_md: (f"Research export made with **ε = {release['epsilon_total']:g}** in total "
                        f"({release['epsilon_per_statistic']:.3g} per statistic), {release['mechanism']}; "
                        f"unit of privacy: {release['unit_of_privacy']}.")}
    on(dp_btn.click, research, [epsilon], [dp_file, dp_md], msg_box=login_msg)

    # --- users (admins only) -------------------------------------------------------
    def save_user(user, name, pw, role):
        if not user.is_admin:
            raise InputError("Only an administrator can add users.")
        auth.create_user(ctx.store, name, pw, role)
        return {user_msg: views.status(f"Saved user {name.strip().lower()} ({role})."), new_pass: ""}
    on(user_btn.click, save_user, [new_user, new_pass, new_role], [user_msg, new_pass], msg_box=user_msg)

