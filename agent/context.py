"""The small context object a turn runs with (STYLE.md 4).

It carries the settings, the store, the LLM backend and (as the later parts
arrive) the retriever, profiles and output folders; tests build one with the
scripted backend and a temporary data folder. Nothing heavy loads here: the
model loads on its first request.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from typing import Any

from .config import LOCAL_PATIENT_CODE, Settings, load_settings
from .llm import ChatBackend, make_backend
from .store import Store, open_store

__all__ = ["AppContext", "SessionRef", "LOCAL_PATIENT_CODE"]


@dataclass(frozen=True)
class SessionRef:
    patient_id: str
    session_id: str


@dataclass
class AppContext:
    settings: Settings
    store: Store
    backend: ChatBackend
    extras: dict[str, Any] = field(default_factory=dict)
    #: a random marker planted in every system prompt; seeing it in a reply means a leak
    canary: str = field(default_factory=lambda: "ATTUNE-CANARY-" + secrets.token_hex(6))
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def close(self) -> None:
        """Close the store (a scratch context for a profile test chat is dropped with it)."""
        self.store.close()

    def profile(self, name: str | None = None):
        """A validated profile (a clinic's own in <data_dir>/profiles wins), cached until its file changes."""
        from attune.prompts import load_profile

        name = name or self.settings.profile
        clinic_dir = self.settings.data_dir / "profiles"
        own = clinic_dir / f"{name}.yaml"
        stamp = own.stat().st_mtime_ns if own.exists() else 0  # a clinician's edit takes effect at once
        key = f"profile:{name}:{stamp}"
        with self._lock:
            if key not in self.extras:
                self.extras[key] = load_profile(name, clinic_dir)
            return self.extras[key]

    @property
    def retriever(self):
        """The knowledge retriever, built on first use (the index builds if it must)."""
        with self._lock:
            if "retriever" not in self.extras:
                from attune.knowledge import KnowledgeIndex, Retriever

                KnowledgeIndex(self.settings.data_dir, self.settings.chroma_url).build()
                self.extras["retriever"] = Retriever(self.settings.data_dir, self.settings.chroma_url)
            return self.extras["retriever"]

    @property
    def input_guard(self):
        with self._lock:
            if "input_guard" not in self.extras:
                from .safety import InputGuard

                self.extras["input_guard"] = InputGuard()
            return self.extras["input_guard"]

    @property
    def output_guard(self):
        with self._lock:
            if "output_guard" not in self.extras:
                from .safety import OutputGuard

                self.extras["output_guard"] = OutputGuard()
            return self.extras["output_guard"]

    @classmethod
    def create(cls, settings: Settings | None = None, backend: ChatBackend | None = None) -> "AppContext":
        settings = settings or load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, store=open_store(settings), backend=backend or make_backend(settings))

    def warm_up(self) -> dict[str, float]:
        """Load the slow parts now (model, screens, mood head, index) so the first turn is quick."""
        import time

        timings: dict[str, float] = {}

        def timed(name: str, fn) -> None:
            start = time.perf_counter()
            fn()
            timings[name] = round(time.perf_counter() - start, 2)

        timed("screens", lambda: self.input_guard.screen("warming up"))
        timed("mood", lambda: __import__("attune.tools.mood", fromlist=["infer_text"]).infer_text("warming up"))
        timed("knowledge", lambda: self.retriever.search("calm music", k=1))
        if hasattr(self.backend.model, "load"):
            timed("model", self.backend.model.load)
        return timings

    def start_session(self, patient_code: str = LOCAL_PATIENT_CODE, profile: str | None = None) -> SessionRef:
        """A new session of the patient with this code (the patient is created on first use)."""
        return self.new_session(self.store.patient_for_code(patient_code), profile)

    def new_session(self, patient_id: str, profile: str | None = None) -> SessionRef:
        """A new session of a patient already known by id (e.g. after they ended one)."""
        sid = self.store.create_session(patient_id, profile or self.settings.profile)
        return SessionRef(patient_id, sid)

    def resume_session(self, session_id: str, patient_code: str = LOCAL_PATIENT_CODE) -> SessionRef:
        """A stored session of this patient; another patient's session is refused."""
        patient_id = self.store.patient_for_code(patient_code, create=False)
        if patient_id is None:
            from attune.common.errors import StorageError
            raise StorageError("That session does not exist for this patient.")
        self.store.session(session_id, patient_id)  # raises if not theirs
        return SessionRef(patient_id, session_id)
