"""What the clinician console does, without the page: sessions, transcripts, patients, export, erasure, profiles.

Every read of patient data names the clinician (``actor="clinician:<name>"``) so the store's audit log
records who saw what. The console page (``ui/console.py``) only lays these out; the same calls serve a
script or a test without Gradio.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Literal

from attune.common.errors import InputError
from attune.prompts import PROFILE_DIR, Profile, parse_profile

from . import library
from .codes import new_patient_code
from .context import AppContext

__all__ = ["sessions", "patients", "transcript", "mood_history", "helped", "export_patient", "export_files", "export_csv",
           "erase_patient", "Erased", "new_code", "open_profile", "save_profile", "short_id"]

log = logging.getLogger(__name__)


def short_id(value: str | None) -> str:
    """The first eight characters: what the console shows of a patient or session id."""
    return (value or "")[:8]


def sessions(ctx: AppContext, actor: str) -> list[dict]:
    return ctx.store.list_sessions(actor)


def patients(ctx: AppContext, actor: str) -> list[dict]:
    return ctx.store.list_patients(actor)


def transcript(ctx: AppContext, actor: str, session_id: str) -> list[dict]:
    """The session's messages as chat messages; a turn the screen did not allow is tagged with its action."""
    if not session_id:
        raise InputError("Choose a session first.")
    pid = ctx.store.session_owner(session_id)
    if pid is None:
        raise InputError("That session no longer exists.")
    out = []
    for t in ctx.store.turns(session_id, pid, actor=actor):
        action = (t.get("meta") or {}).get("action")
        tag = f" _[{action}]_" if action and action != "allow" else ""
        out.append({"role": "user" if t["role"] == "patient" else "assistant", "content": f"{t['content']}{tag}"})
    return out


def _chosen(patient_id: str | None) -> str:
    if not patient_id:
        raise InputError("Choose a patient first.")
    return patient_id


def mood_history(ctx: AppContext, actor: str, patient_id: str | None) -> tuple[list[dict], list[dict]]:
    """(mood readings, ratings) of one patient, oldest first."""
    pid = _chosen(patient_id)
    return ctx.store.moods(pid, actor=actor), ctx.store.ratings(pid, actor=actor)


def helped(ctx: AppContext, actor: str, patient_id: str | None) -> list[library.LibraryEntry]:
    """The patient's pieces, most measured benefit first (``library.helped``)."""
    return library.helped(ctx.store, _chosen(patient_id), actor)


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return value.hex()
    return str(value)


def export_csv(data: dict) -> str:
    """A patient's export as one long CSV: record, session, time, role or phase, content."""
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow(["record", "session_id", "created_at", "role_or_phase", "content"])

    def dump(d: dict) -> str:
        return json.dumps(d, default=_json_default, ensure_ascii=False)

    for sess in data.get("sessions", []):
        for t in sess.get("turns", []):
            w.writerow(["turn", sess["id"], _json_default(t["created_at"]), t["role"], t["content"]])
        for e in sess.get("events", []):
            w.writerow(["event", sess["id"], _json_default(e["created_at"]), e["kind"], dump(e["payload"])])
    for r in data.get("ratings", []):
        rest = {k: v for k, v in r.items() if k not in {"session_id", "created_at", "phase"}}
        w.writerow(["rating", r.get("session_id"), _json_default(r.get("created_at")), r.get("phase"), dump(rest)])
    for m in data.get("moods", []):
        rest = {k: v for k, v in m.items() if k not in {"session_id", "created_at", "source"}}
        w.writerow(["mood", m.get("session_id"), _json_default(m.get("created_at")), m.get("source"), dump(rest)])
    for p in data.get("pieces", []):
        rest = {k: v for k, v in p.items() if k not in {"session_id", "created_at"}}
        w.writerow(["piece", p.get("session_id"), _json_default(p.get("created_at")), "", dump(rest)])
    return buf.getvalue()


def export_dir() -> Path:
    """A new private folder (0700) for a file the console hands to the browser."""
    return Path(tempfile.mkdtemp(prefix="attune-export-"))


def export_files(stem: str, texts: dict[str, str]) -> list[Path]:
    """Write one file per extension (``{"json": ..., "csv": ...}``) into a new private folder."""
    folder = export_dir()
    stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M")
    paths = [folder / f"{stem}-{stamp}.{ext}" for ext in texts]
    for path, text in zip(paths, texts.values()):
        path.write_text(text, encoding="utf-8")
    return paths


def export_patient(ctx: AppContext, actor: str, patient_id: str | None, kind: Literal["json", "csv"]) -> Path:
    """Everything kept about one patient, decrypted, as a JSON or CSV file; the path is returned."""
    pid = _chosen(patient_id)
    data = ctx.store.export_patient(pid, actor)
    text = (json.dumps(data, default=_json_default, ensure_ascii=False, indent=2) if kind == "json"
            else export_csv(data))
    return export_files(f"attune-patient-{short_id(pid)}", {kind: text})[0]


@dataclass(frozen=True)
class Erased:
    records: int
    files: int


def _remove_piece_files(patient_id: str, root: Path) -> int:
    """Delete the patient's whole music folder (audio, MIDI, scores, piano rolls, plans, playlists)."""
    root = Path(root).resolve()
    folder = (root / patient_id).resolve()
    if folder.parent != root or not folder.is_dir():  # never outside the pieces folder
        return 0
    removed = sum(1 for p in folder.rglob("*") if p.is_file())
    shutil.rmtree(folder)
    return removed


def erase_patient(ctx: AppContext, actor: str, patient_id: str | None, typed: str) -> Erased:
    """Erase a patient's records and music files once the first eight characters of the id are typed."""
    pid = _chosen(patient_id)
    if (typed or "").strip() != short_id(pid):
        raise InputError(f"Type {short_id(pid)} exactly to confirm the erasure. Nothing was erased.")
    files = _remove_piece_files(pid, ctx.settings.pieces_dir)
    counts = ctx.store.erase_patient(pid, actor)
    return Erased(records=sum(counts.values()), files=files)


def new_code(ctx: AppContext, actor: str) -> tuple[str, str]:
    """(a new personal code, its patient id); the code is shown once and stored only as a keyed hash."""
    code = new_patient_code()
    return code, ctx.store.patient_for_code(code, actor=actor)


def _clinic_dir(ctx: AppContext) -> Path:
    return ctx.settings.data_dir / "profiles"


def open_profile(ctx: AppContext, name: str | None) -> tuple[str, str]:
    """(the profile's YAML, "clinic copy" or "shipped profile"); the clinic's copy wins."""
    if not name:
        raise InputError("Choose a profile first.")
    for folder, where in ((_clinic_dir(ctx), "clinic copy"), (PROFILE_DIR, "shipped profile")):
        path = folder / f"{name}.yaml"
        if path.exists():
            return path.read_text(encoding="utf-8"), where
    raise InputError(f"No profile named {name}.")


def save_profile(ctx: AppContext, actor: str, text: str) -> Profile:
    """Validate and save a profile to the clinic's folder, atomically; a ``ProfileError`` saves nothing."""
    prof = parse_profile(text or "", "profile")
    folder = _clinic_dir(ctx)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{prof.name}.yaml"
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)  # a half-written profile is never read
    log.info("profile %s saved by %s", prof.name, actor)
    return prof
