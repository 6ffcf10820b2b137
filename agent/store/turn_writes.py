"""A turn's writes, held until the turn ends and then committed in one transaction.

A turn reads the session, screens, composes, asks the model and only then knows
what it did. Holding a database transaction open across all that would block
other sessions' writes (SQLite has one writer) for seconds; writing as it goes
leaves half a turn behind when something fails. So the turn's context carries a
``TurnWrites`` in place of the store: reads go to the store (with this turn's
own patient memory and pieces seen first), writes are recorded, and ``commit``
replays them inside ``Store.transaction``. A turn that fails writes nothing.
"""

from __future__ import annotations

import copy
from typing import Any

__all__ = ["TurnWrites"]

WRITES = frozenset({"append_turn", "append_event", "add_mood", "add_piece", "save_session_state",
                    "set_patient_data"})


class TurnWrites:
    """The store as one turn sees it: reads pass through, writes wait for ``commit``."""

    def __init__(self, store: Any) -> None:
        self.store = store
        self.pending: list[tuple[str, tuple, dict]] = []
        self._patient: dict[str, dict] = {}  # patient memory written by this turn
        self._pieces: dict[str, list[dict]] = {}  # pieces made by this turn, by patient

    def __getattr__(self, name: str) -> Any:
        if name in WRITES:
            return lambda *args, **kwargs: self._record(name, args, kwargs)
        return getattr(self.store, name)

    def _record(self, name: str, args: tuple, kwargs: dict) -> None:
        self.pending.append((name, copy.deepcopy(args), copy.deepcopy(kwargs)))
        if name == "set_patient_data":
            self._patient[args[0]] = copy.deepcopy(args[1])
        elif name == "add_piece":
            patient, session, data = args[:3]
            self._pieces.setdefault(patient, []).append(
                {"id": kwargs.get("piece_id"), "session_id": session, "favourite": False, **copy.deepcopy(data)})

    def patient_data(self, patient_id: str, *args: Any, **kwargs: Any) -> dict:
        if patient_id in self._patient:
            return copy.deepcopy(self._patient[patient_id])
        return self.store.patient_data(patient_id, *args, **kwargs)

    def pieces(self, patient_id: str, *args: Any, **kwargs: Any) -> list[dict]:
        return self.store.pieces(patient_id, *args, **kwargs) + copy.deepcopy(self._pieces.get(patient_id, []))

    def commit(self) -> None:
        """Write everything this turn recorded, in order, in one transaction."""
        with self.store.transaction():
            for name, args, kwargs in self.pending:
                getattr(self.store, name)(*args, **kwargs)
        self.pending.clear()
        self._patient.clear()
        self._pieces.clear()
