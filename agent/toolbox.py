"""Attune's tools, defined once: typed arguments, limit checks, one registry.

Each tool is a function of a ``ToolContext`` (the session it acts in) and a
pydantic argument model. The guided session protocol calls them through
``call``, and so can a capable model (``langchain_tools`` hands the same
registry to LangChain's ``bind_tools``), so a ``ToolCalled`` event always
stands for a real call. A tool checks its arguments against the profile's
limits (tempo window, instruments; in a crisis only calming music; the
length is bounded by its schema) and refuses with a clear sentence
(``ToolRefused``), never silently clamps. ``attune tools`` prints the
registry as JSON: what an OpenAI-compatible server receives.

What it leaves out: choosing which tool runs (the policy, or the model) and
wording the reply.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Literal, Optional

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from attune.common.errors import InputError

__all__ = ["ToolContext", "ToolRefused", "Tool", "REGISTRY", "call", "schemas", "langchain_tools", "register"]


class ToolRefused(InputError):
    """A tool call the limits do not allow; the message says why, in plain words."""


@dataclass
class ToolContext:
    """The session a tool acts in (what a call may read and change)."""

    ctx: Any  # AppContext
    ref: Any  # SessionRef
    state: Any  # SessionState
    profile: Any
    mood: dict = field(default_factory=dict)
    passages: list[dict] = field(default_factory=list)


class _Args(BaseModel):
    model_config = ConfigDict(extra="forbid")


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    args: type[_Args]
    run: Callable[[ToolContext, Any], dict]


REGISTRY: dict[str, Tool] = {}


def _tool(name: str, args: type[_Args]):
    def wrap(fn: Callable[[ToolContext, Any], dict]) -> Callable[[ToolContext, Any], dict]:
        REGISTRY[name] = Tool(name, (fn.__doc__ or "").strip(), args, fn)
        return fn
    return wrap


def call(name: str, tc: ToolContext, arguments: dict | None = None) -> dict:
    """Validate ``arguments`` against the tool's model, check them, run it; a bad call raises InputError."""
    tool = REGISTRY.get(name)
    if tool is None:
        raise InputError(f"There is no tool called {name!r}; the tools are: {', '.join(sorted(REGISTRY))}.")
    try:
        args = tool.args.model_validate(arguments or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "arguments"
        raise InputError(f"The {name} tool cannot take {where}: {first['msg']}.") from None
    return tool.run(tc, args)


def schemas() -> list[dict]:
    """The registry as an OpenAI-compatible server receives it: name, description, JSON Schema parameters."""
    out = []
    for tool in REGISTRY.values():
        params = tool.args.model_json_schema()
        params.pop("title", None)
        for prop in params.get("properties", {}).values():
            prop.pop("title", None)
        out.append({"name": tool.name, "description": tool.description, "parameters": params})
    return out


def langchain_tools(tc: ToolContext) -> list:
    """The registry as LangChain tools bound to one session (for ``bind_tools``)."""
    from langchain_core.tools import StructuredTool

    def bound(tool: Tool):
        def run(**kwargs: Any) -> str:
            try:
                return json.dumps(call(tool.name, tc, kwargs), default=str)
            except InputError as exc:  # the model reads the refusal and can try within the limits
                return json.dumps({"refused": str(exc)})
        return StructuredTool.from_function(run, name=tool.name, description=tool.description,
                                            args_schema=tool.args)
    return [bound(t) for t in REGISTRY.values()]


# ---------------------------------------------------------------- the tools


class ReadMoodArgs(_Args):
    text: str = Field(min_length=1, max_length=4000, description="what the person wrote")


@_tool("read_mood", ReadMoodArgs)
def read_mood(tc: ToolContext, a: ReadMoodArgs) -> dict:
    """Estimate the mood a message shows: valence and arousal from -1 to 1, a feeling label and confidence."""
    from attune.tools.mood import infer_text

    est = infer_text(a.text)
    return {"valence": round(est.valence, 3), "arousal": round(est.arousal, 3), "label": est.label,
            "confidence": round(est.confidence, 3)}


class ComposeArgs(_Args):
    target: Optional[Literal["sleep", "calm", "focus", "energy", "lift", "comfort"]] = Field(
        None, description="where the piece should lead; without it, the session's goal or the profile's")
    seconds: Optional[float] = Field(None, ge=10, le=600, description="length of the piece in seconds")
    instruments: list[str] = Field(default_factory=list, max_length=3,
                                   description="instruments to use, the first leads (General MIDI names)")
    avoid: list[str] = Field(default_factory=list, description="instruments to leave out")
    tempo_bpm: Optional[float] = Field(None, ge=20, le=240, description="mean tempo to aim at, beats per minute")
    energy_change: int = Field(0, ge=-2, le=2, description="-2 much calmer ... +2 much livelier than the mood")
    breaths_per_minute: Optional[float] = Field(None, ge=4, le=10, description="pace the piece for slow breathing")


GOALS = {"sleep": (0.3, -0.9, "ready for sleep"), "calm": (0.4, -0.6, "calmer"),
         "focus": (0.3, 0.0, "focused"), "energy": (0.6, 0.6, "energised"), "lift": (0.6, 0.2, "a little lighter"),
         "comfort": (0.4, -0.3, "comforted")}


def _check_compose(tc: ToolContext, a: ComposeArgs) -> None:
    limits = tc.profile.music
    if a.tempo_bpm is not None and not limits.min_bpm <= a.tempo_bpm <= limits.max_bpm:
        raise ToolRefused(f"A tempo of {a.tempo_bpm:g} beats a minute is outside this profile's limits "
                          f"({limits.min_bpm:g}-{limits.max_bpm:g}).")
    refused = [n for n in a.instruments if not limits.is_permitted(n)]
    if refused:
        raise ToolRefused(f"This profile does not allow {', '.join(refused)}.")
    if tc.state.crisis_mode and (a.energy_change > 0 or a.target in {"energy", "lift", "focus"}
                                 or (a.tempo_bpm is not None and a.tempo_bpm > 72)):
        raise ToolRefused("While the person may be in crisis, only calm, slow music is made.")


@_tool("compose_music", ComposeArgs)
def compose_music(tc: ToolContext, a: ComposeArgs) -> dict:
    """Compose and render a piece that starts at the person's mood and leads toward a target (iso principle)."""
    from .music_prefs import MusicPrefs
    from .music_step import compose_for_turn

    _check_compose(tc, a)
    prefs = MusicPrefs.model_validate(tc.state.music_prefs or {})
    prefs = prefs.model_copy(update={k: v for k, v in {
        "seconds": a.seconds, "bpm": a.tempo_bpm,
        "energy": max(-3, min(3, prefs.energy + a.energy_change)) if a.energy_change else None,
        "use": a.instruments or None, "avoid": sorted(set(prefs.avoid) | set(a.avoid)) if a.avoid else None,
    }.items() if v is not None})
    update: dict[str, Any] = {"music_prefs": prefs.model_dump()}
    if a.target:
        update["goal"] = GOALS[a.target]
    profile = tc.profile
    if a.breaths_per_minute is not None:
        profile = profile.model_copy(update={"breaths_per_minute": a.breaths_per_minute})
    music = compose_for_turn(tc.ctx, tc.ref, tc.state.model_copy(update=update), profile, tc.mood, tc.passages)
    return music


class ExplainArgs(_Args):
    piece_id: Optional[str] = Field(None, description="the piece; without it, the one now playing")


@_tool("explain_music", ExplainArgs)
def explain_music(tc: ToolContext, a: ExplainArgs) -> dict:
    """Why a piece sounds as it does: its reasons and the guidance it follows."""
    pid = a.piece_id or (tc.state.last_piece or {}).get("piece_id")
    piece = next((p for p in tc.ctx.store.pieces(tc.ref.patient_id) if p["id"] == pid), None) if pid else None
    if piece is None:
        raise ToolRefused("There is no piece to explain yet.")
    return {"piece_id": pid, "why": piece.get("why") or [], "sources": piece.get("sources") or []}


class SearchArgs(_Args):
    query: str = Field(min_length=2, max_length=500, description="what to look for in the clinical guidance")
    k: int = Field(3, ge=1, le=5, description="how many passages")


@_tool("search_guidance", SearchArgs)
def search_guidance(tc: ToolContext, a: SearchArgs) -> dict:
    """Search Attune's clinical guidance; every passage has an id and a source to cite."""
    passages = tc.ctx.retriever.search(a.query, k=a.k)
    return {"passages": [{"id": p.id, "title": p.title, "source": p.source, "text": p.text[:600]}
                         for p in passages]}


class BreathingArgs(_Args):
    breaths_per_minute: float = Field(6.0, ge=4, le=10, description="breathing pace")
    minutes: float = Field(2.0, ge=0.5, le=10, description="how long")


@_tool("breathing_exercise", BreathingArgs)
def breathing_exercise(tc: ToolContext, a: BreathingArgs) -> dict:
    """A paced slow-breathing exercise: seconds in and out, and how many breaths."""
    seconds = 60.0 / a.breaths_per_minute
    return {"breaths_per_minute": a.breaths_per_minute, "inhale_s": round(seconds * 0.4, 1),
            "exhale_s": round(seconds * 0.6, 1), "breaths": int(round(a.breaths_per_minute * a.minutes)),
            "steps": [f"Breathe in gently through your nose for about {seconds * 0.4:.0f} seconds.",
                      f"Breathe out slowly for about {seconds * 0.6:.0f} seconds.",
                      "If you feel light-headed, return to your normal breathing."]}


class LibraryArgs(_Args):
    piece_id: str = Field(min_length=8, description="a piece from this person's own library")


@_tool("play_from_library", LibraryArgs)
def play_from_library(tc: ToolContext, a: LibraryArgs) -> dict:
    """Play a piece from the person's own library again (the same stored file)."""
    from .library import replay

    entry = replay(tc.ctx, tc.ref, a.piece_id)
    return {"piece_id": entry.id, "files": entry.files, "seconds": entry.duration_s}


class RatingArgs(_Args):
    phase: Literal["pre", "post"] = Field(description="before or after the piece")
    sam_valence: Optional[float] = Field(None, ge=1, le=9)
    sam_arousal: Optional[float] = Field(None, ge=1, le=9)
    suds: Optional[float] = Field(None, ge=0, le=10)
    liking: Optional[float] = Field(None, ge=1, le=5)
    piece_id: Optional[str] = None


@_tool("log_rating", RatingArgs)
def log_rating(tc: ToolContext, a: RatingArgs) -> dict:
    """Store how the person rates their mood before or after a piece (SAM 1-9, SUDS 0-10, liking 1-5)."""
    from .service import rate

    return rate(tc.ctx, tc.ref, a.phase, sam_valence=a.sam_valence, sam_arousal=a.sam_arousal, suds=a.suds,
                liking=a.liking, piece_id=a.piece_id)


# ---------------------------------------------------------------- attune tools


def register(subparsers) -> argparse.ArgumentParser:
    parser = subparsers.add_parser("tools", help="print the tools a model can call, as JSON")
    parser.set_defaults(handler=lambda args: print(json.dumps(schemas(), indent=2)) or 0)
    return parser
