"""The small context object a turn runs with (STYLE.md 4).

It carries the settings, the store, the LLM backend and (as the later parts
arrive) the retriever, profiles and output folders; tests build one with the
scripted backend and a temporary data folder. Nothing heavy loads here: the
model loads on its first request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .config import Settings, load_settings
from .llm import ChatBackend, make_backend
from .store import Store, open_store

__all__ = ["AppContext", "SessionRef", "LOCAL_PATIENT_CODE"]

#: The personal code of the single local user when nobody signs in.
LOCAL_PATIENT_CODE = "local-user"


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

    @classmethod
    def create(cls, settings: Settings | None = None, backend: ChatBackend | None = None) -> "AppContext":
        settings = settings or load_settings()
        settings.data_dir.mkdir(parents=True, exist_ok=True)
        return cls(settings=settings, store=open_store(settings), backend=backend or make_backend(settings))

    def start_session(self, patient_code: str = LOCAL_PATIENT_CODE, profile: str | None = None) -> SessionRef:
        patient_id = self.store.patient_for_code(patient_code)
        sid = self.store.create_session(patient_id, profile or self.settings.profile)
        return SessionRef(patient_id, sid)

    def resume_session(self, session_id: str, patient_code: str = LOCAL_PATIENT_CODE) -> SessionRef:
        """A stored session of this patient; another patient's session is refused."""
        patient_id = self.store.patient_for_code(patient_code, create=False)
        if patient_id is None:
            from .errors import StorageError
            raise StorageError("That session does not exist for this patient.")
        self.store.session(session_id, patient_id)  # raises if not theirs
        return SessionRef(patient_id, session_id)
