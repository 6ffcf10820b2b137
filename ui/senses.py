"""The patient page's opt-in senses: a camera snapshot of the face (with consent) and an EEG headset.

What each reading suggested is shown to the person in plain words; only the
numbers are stored (``attune.agent.service``). A snapshot reaches the server
as a file in Gradio's upload folder; its handler takes the raw upload
(``preprocess=False``: Gradio neither opens nor copies it), reads the bytes
and deletes the file before anything else (``take_upload``), so no picture
stays on disk. Every reading is stored under the session's lock (``actions``) so
that a reply in progress cannot overwrite it; the slow part (streaming a
headset for seconds) runs before the lock is taken, so the chat never
waits for it. An absent, refused or failing sensor gives one clear line and
the conversation goes on without it.

Heart rate and voice are in ``patient.py``. Not here: video, reading the
camera continuously, EEG monitoring in the background.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any, Callable, Mapping

from attune.agent import service
from attune.agent.context import AppContext, SessionRef

from . import views
from .actions import SessionLocks, attempt, guarded

__all__ = ["build_senses", "take_upload", "face_words", "eeg_words", "baseline_words", "CONSENT", "NO_PICTURE",
           "NO_FACE"]

CONSENT = ("Let Attune read my facial expression from a camera snapshot. The picture is not kept; only the "
           "estimate is, and you will see it. An expression is not a feeling.")
BLOCKED = ("If your browser blocked the camera, you can allow it in the address bar, upload a photo instead, "
           "or carry on without it.")
CAMERA_HINT = f"Take a snapshot with the camera button, or upload a photo: it is read at once, then deleted. {BLOCKED}"
NO_PICTURE = f"No picture came through. {BLOCKED}"
NO_FACE = "No face found in the picture; nothing was kept."
CAMERA_OFF = "Expression reading is off and the camera is closed; nothing more will be read."
NOT_ASKED = "Tick the box above first if you want Attune to read your expression; the picture was not read."
EEG_INTRO = ("An EEG headset can hint at how alert or relaxed you are compared with your own calm baseline. "
             "It is weak evidence and says nothing about how pleasant you feel.")
NO_HEADSET = ("No headset is connected here. A clinician or administrator can connect one by setting "
              "ATTUNE_EEG_BOARD (for example muse_2) before starting Attune.")
WEAK = "Weak evidence; says nothing about how pleasant you feel."
NUDGE = 0.1  # on the [-1, 1] mood scale: smaller suggestions are "no nudge either way"
EEG_SAME = 0.05  # arousal on [-1, 1]: within this, "about the same" (eeg.eeg_arousal says "about as at rest")


def take_upload(payload: Mapping[str, Any] | None, cache: Path) -> bytes | None:
    """The bytes of a raw Gradio image upload (its FileData as a dict); the file is deleted at once.

    Gradio has checked that the path lies in its upload folder ``cache``;
    ``None`` when nothing came through (no picture, an empty or vanished file).
    """
    if not payload:
        return None
    url = payload.get("url") or ""
    if url.startswith("data:"):  # sent inline: never on disk
        return _data_url_bytes(url)
    return _take(Path(payload["path"]), cache) if payload.get("path") else None


def _data_url_bytes(url: str) -> bytes | None:
    try:
        return base64.b64decode(url.split(",", 1)[1], validate=False) or None
    except (IndexError, binascii.Error):
        return None


def _take(path: Path, cache: Path) -> bytes | None:
    """The file's bytes; the file (and its folder, once empty) is deleted when it is in Gradio's cache."""
    try:
        return path.read_bytes() or None
    except OSError:  # gone already (read twice) or unreadable: nothing came through
        return None
    finally:
        if path.resolve().is_relative_to(cache.resolve()):
            path.unlink(missing_ok=True)
            folder = path.parent
            if folder.resolve() != cache.resolve():
                try:
                    folder.rmdir()  # Gradio puts each upload in a folder named by its hash
                except OSError:
                    pass  # not empty: another upload shares it


def _nudge(value: float, up: str, down: str) -> str | None:
    return up if value > NUDGE else down if value < -NUDGE else None


def face_words(shown: Mapping[str, Any]) -> str:
    """What a snapshot suggested, e.g. "Seen: looks happy (p=0.99): a little more positive, …"."""
    if not shown.get("stored"):
        return NO_FACE
    nudges = [w for w in (_nudge(float(shown["valence"]), "a little more positive", "a little more negative"),
                          _nudge(float(shown["arousal"]), "a little more lively", "a little calmer")) if w]
    text = (f"Seen: looks {shown['expression']} (p={float(shown['expression_p']):.2f}): "
            f"{', '.join(nudges) or 'no nudge either way'}. Counted lightly in your mood.")
    if int(shown.get("faces") or 1) > 1:
        text += f" There were {shown['faces']} faces; the largest was read."
    return text


def eeg_words(shown: Mapping[str, Any]) -> str:
    """What an EEG reading suggested: its index, the arousal direction in words, and how little it says."""
    personal = shown.get("fusion_source") == "eeg_personal"
    than = "your calm baseline" if personal else "at the start of this recording (no calm baseline yet)"
    arousal = float(shown.get("arousal") or 0.0)
    if not shown.get("confidence"):
        direction = "too short to compare with its own start, so it was not counted"
    elif arousal > EEG_SAME:
        direction = f"more alert than {than}"
    elif arousal < -EEG_SAME:
        direction = f"more relaxed than {than}"
    else:
        direction = f"about the same as {than}"
    return (f"EEG index {float(shown['index']):.2f} (beta over alpha and theta) from {float(shown['seconds']):.0f} s: "
            f"{direction}. {WEAK}")


def baseline_words(shown: Mapping[str, Any]) -> str:
    return (f"Calm baseline saved: EEG index {float(shown['index']):.2f} from {float(shown['seconds']):.0f} s. "
            "Later readings are compared with it.")


def build_senses(ctx: AppContext, gr, ref_state, ensure: Callable[[Any], SessionRef],
                 locks: SessionLocks) -> None:
    """Lay out the facial-expression and EEG inputs (inside the current column) and wire their events."""
    limit = ctx.settings.gradio_concurrency
    private = {"concurrency_limit": limit, "api_visibility": "private"}
    seconds = ctx.settings.eeg_seconds

    with gr.Accordion("Facial expression (optional)", open=False, elem_id="face-box"):
        consent = gr.Checkbox(False, label=CONSENT, elem_id="face-consent")
        with gr.Column(visible=False, elem_id="face-camera") as camera:
            snap = gr.Image(sources=["webcam", "upload"], type="filepath", label="Snapshot of your face", buttons=[],
                            elem_id="face-snap", height=300)
            gr.HTML(f"<p class='hint'>{CAMERA_HINT}</p>", js_on_load=None)
        face_msg = gr.HTML("", elem_id="face-msg", js_on_load=None)

    with gr.Accordion("EEG headset (optional)", open=False, elem_id="eeg-box"):
        gr.HTML(f"<p class='hint'>{EEG_INTRO}</p>", js_on_load=None)
        eeg_file = gr.File(label="Recorded BrainFlow session (CSV)", file_types=[".csv", ".txt", ".tsv"],
                           elem_id="eeg-file")
        base_file = gr.Button("Set my calm baseline from this recording", elem_id="eeg-baseline-file")
        if ctx.settings.eeg_board:
            with gr.Row():
                live = gr.Button(f"Read headset for {seconds:g} s", elem_id="eeg-live")
                base_live = gr.Button("Record calm baseline", elem_id="eeg-baseline-live")
        else:
            gr.HTML(f"<p class='hint' id='eeg-how'>{NO_HEADSET}</p>", js_on_load=None)
        eeg_msg = gr.HTML("", elem_id="eeg-msg", js_on_load=None)

    def stored(ref: SessionRef, call: Callable[[], Any]) -> Any:
        """Run a storing call under the session's lock (after any reply in progress)."""
        with locks.held(ref.session_id):
            return call()

    # --- facial expression ------------------------------------------------------------
    def consent_given(on: bool):
        if not on:
            return {camera: gr.update(visible=False), snap: None, face_msg: views.status(CAMERA_OFF, "info")}
        from attune.tools.mood.face import warm_up

        _, error = guarded(warm_up)  # load the models now, so a snapshot is read at once
        if error:  # e.g. OpenCV missing: say so and leave the camera closed
            return {consent: False, camera: gr.update(visible=False), face_msg: error}
        return {camera: gr.update(visible=True), face_msg: ""}

    def read_face(on: bool, upload: dict | None, ref: SessionRef | None):
        picture = take_upload(upload, Path(snap.GRADIO_CACHE))  # first: the file is gone, read or not
        # the picture on the page is cleared too, whatever happens next
        if not on:  # consent withdrawn (or never given): nothing is read
            return {snap: None, face_msg: views.status(NOT_ASKED, "error")}
        if not picture:
            return {snap: None, face_msg: views.status(NO_PICTURE, "error")}
        ref = ensure(ref)
        shown, error = guarded(lambda: stored(ref, lambda: service.add_face(ctx, ref, picture)))
        if error:
            return {snap: None, face_msg: error, ref_state: ref}
        return {snap: None, ref_state: ref,
                face_msg: views.status(face_words(shown), "ok" if shown.get("stored") else "info")}

    consent.input(consent_given, [consent], [consent, camera, snap, face_msg], **private)
    # preprocess=False: the handler gets Gradio's FileData as it came (nothing decoded, copied or converted)
    snap.upload(read_face, [consent, snap, ref_state], [snap, face_msg, ref_state], preprocess=False,
                show_progress_on=[face_msg], **private)

    # --- EEG ------------------------------------------------------------------------------
    def add_recording(path: str | None, ref: SessionRef | None):
        if not path:
            return {}
        ref = ensure(ref)

        def call() -> str:
            shown = stored(ref, lambda: service.add_eeg_file(ctx, ref, path))
            calm = (" If you were calm and still during it, you can set it as your calm baseline."
                    if shown.get("fusion_source") != "eeg_personal" else "")
            return eeg_words(shown) + calm
        return {eeg_msg: attempt(call), ref_state: ref}

    def baseline_from_file(path: str | None, ref: SessionRef | None):
        if not path:
            return {eeg_msg: views.status("Upload a recording first, then set it as your calm baseline.", "error")}
        ref = ensure(ref)
        # the baseline is the patient's, not the session's state: no session lock is needed
        return {eeg_msg: attempt(lambda: baseline_words(service.set_eeg_baseline(ctx, ref, path=path))),
                ref_state: ref}

    eeg_file.upload(add_recording, [eeg_file, ref_state], [eeg_msg, ref_state], **private)
    base_file.click(baseline_from_file, [eeg_file, ref_state], [eeg_msg, ref_state], **private)
    if not ctx.settings.eeg_board:
        return

    def read_live(ref: SessionRef | None):
        ref = ensure(ref)
        yield {eeg_msg: views.progress(f"Reading the headset for {seconds:g} s… sit still and relax your jaw."),
               ref_state: ref}
        reading, error = guarded(lambda: service.read_eeg_headset(ctx))  # seconds of streaming, no lock held
        if error:
            yield {eeg_msg: error}
            return
        yield {eeg_msg: attempt(lambda: eeg_words(stored(ref, lambda: service.add_eeg_reading(ctx, ref, reading))))}

    def baseline_live(ref: SessionRef | None):
        ref = ensure(ref)
        yield {eeg_msg: views.progress(f"Recording your calm baseline for {seconds:g} s… sit comfortably and "
                                       "breathe slowly."), ref_state: ref}
        yield {eeg_msg: attempt(lambda: baseline_words(service.set_eeg_baseline(ctx, ref)))}

    # one headset per server: live reads queue rather than open the board twice
    headset = {"concurrency_limit": 1, "concurrency_id": "eeg-headset", "api_visibility": "private",
               "show_progress": "hidden"}
    live.click(read_live, [ref_state], [eeg_msg, ref_state], **headset)
    base_live.click(baseline_live, [ref_state], [eeg_msg, ref_state], **headset)
