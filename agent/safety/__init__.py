"""Attune's safety layer: input screen, output screen, crisis protocol.

Public names are re-exported lazily so that importing this package loads
no model and compiles no rule tables until they are used (STYLE.md 3).
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = [
    "ScreenResult", "OutputVerdict", "CrisisResource", "CrisisReply",
    "InputGuard", "screen_input", "OutputGuard", "screen_output",
    "crisis_reply", "resources_for", "update_crisis_mode", "CrisisState",
    "normalise", "evaluate", "bench",
]

_WHERE = {
    "ScreenResult": "models", "OutputVerdict": "models", "CrisisResource": "models", "CrisisReply": "models",
    "InputGuard": "input_guard", "screen_input": "input_guard",
    "OutputGuard": "output_guard", "screen_output": "output_guard",
    "crisis_reply": "crisis", "resources_for": "crisis", "update_crisis_mode": "crisis", "CrisisState": "crisis",
    "normalise": "normalize", "evaluate": "evaluate", "bench": "bench",
}


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        return getattr(importlib.import_module(f"{__name__}.{_WHERE[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
