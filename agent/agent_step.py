"""Agent mode: a capable model holds the conversation and calls Attune's tools itself.

Used when ``ATTUNE_AGENT=tools`` (or ``auto`` with a backend that reports
tool calling, such as an OpenAI-compatible server). The same checks surround
it as the guided protocol: the input screen has already run (crisis, block
and closing stay code's steps), every tool call goes through the registry's
argument and limit checks, at most ``MAX_TOOL_ROUNDS`` rounds of calls run
in a turn, and the final reply passes a check of its shape (a few sentences,
none repeated) and the output screen, or a code-worded reply replaces it.
When the policy has chosen to compose (the person asked for music), the
first round must call ``compose_music``, so the music comes on that turn.

What it leaves out: streaming the model's words token by token (the reply is
screened whole before it is shown).
"""

from __future__ import annotations

import html
import json
import re
from typing import Any, Iterator

from .events import Event, Notice, OutputChecked, ToolCalled, ToolResult
from attune.common.errors import AttuneError, BackendUnreachable

__all__ = ["agent_reply", "reply_problems", "MAX_TOOL_ROUNDS", "AGENT_SYSTEM"]

MAX_TOOL_ROUNDS = 3  # model turns that may call tools before it must answer in words
MAX_REPLY_CHARS = 600  # "two to four short sentences": a longer reply is a model that ran on
MAX_REPLY_SENTENCES = 5
AGENT_SYSTEM = (
    "You are {name}, a {tone} AI companion for music and relaxation. You offer self-help and music "
    "medicine, not therapy: never diagnose, never advise on medicines or doses, never describe ways to "
    "harm oneself. This person's goals: {goals}. Listen first: reflect back what they said in their own "
    "terms before you suggest anything, and never guess reasons they did not give. When they ask for "
    "music, or music would help and they agree, call compose_music (it starts where they are and leads "
    "toward the target). Use search_guidance before you make a claim about what helps, and cite the "
    "passage id in square brackets. Keep replies to two to four short sentences. Their mood now reads as "
    "{mood} (valence {valence:+.2f}, arousal {arousal:+.2f}). [{canary}]"
)


def _messages(t) -> list:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    p = t.profile
    system = AGENT_SYSTEM.format(name=p.persona.name, tone=p.persona.tone, goals="; ".join(p.goals),
                                 mood=t.mood["label"], valence=t.mood["valence"], arousal=t.mood["arousal"],
                                 canary=t.ctx.canary)
    if t.passages:
        system += "\nGuidance retrieved for this turn: " + " ".join(
            f"[{x['id']}] {x['text'][:300]}" for x in t.passages[:3])
    out: list = [SystemMessage(content=system)]
    for h in t.history[-8:]:
        out.append((HumanMessage if h["role"] == "user" else AIMessage)(content=h["content"][:1200]))
    out.append(HumanMessage(content=t.text[:4000]))
    return out


def reply_problems(reply: str) -> list[str]:
    """What is wrong with a model's reply as a whole, before the output screen reads its words."""
    sentences = [x.strip().lower() for x in re.split(r"(?<=[.!?])\s+|\n+", reply) if x.strip()]
    problems = []
    if len(reply) > MAX_REPLY_CHARS or len(sentences) > MAX_REPLY_SENTENCES:
        problems.append(f"too long ({len(reply)} characters, {len(sentences)} sentences)")
    if len(set(sentences)) < len(sentences):
        problems.append("repeats a sentence")
    if re.search(r"[{}<>\[\]]", re.sub(r"\[[\w./#:-]+\]", "", reply)):  # a citation [doc#part] is fine
        problems.append("code or markup, not words")
    return problems


def _first_round(model, tools: list, t) -> Any:
    """The person asked for music (the policy chose compose): the first round must call compose_music."""
    if t.step == "compose" and not t.state.crisis_mode:
        return model.bind_tools(tools, tool_choice="compose_music")
    return model.bind_tools(tools)


def agent_reply(t, on_music) -> Iterator[Event | str]:
    """Run the model with the tools; yields events, and last the reply text (None if it failed a check).

    ``on_music(music)`` records a piece the model composed, as the guided compose step does.
    """
    from langchain_core.messages import ToolMessage

    from .toolbox import ToolContext, call, langchain_tools

    tc = ToolContext(t.ctx, t.ref, t.state, t.profile, t.mood, t.passages)
    tools = langchain_tools(tc)
    base = t.ctx.backend.model
    if getattr(base, "streaming", False):  # the reply is screened whole; and streamed tool calls from
        base = base.model_copy(update={"streaming": False})  # llama-cpp-python repeat the name per chunk
    model = base.bind_tools(tools)
    messages = _messages(t)
    citable = {p["id"] for p in t.passages}  # passages the reply may cite: retrieved, or found by search_guidance
    reply = None
    try:
        for round_ in range(MAX_TOOL_ROUNDS + 1):
            answer = (_first_round(base, tools, t) if round_ == 0 else model).invoke(messages)
            calls = list(getattr(answer, "tool_calls", None) or [])
            if not calls:
                reply = html.unescape(answer.content) if isinstance(answer.content, str) else ""
                break
            if round_ == MAX_TOOL_ROUNDS:  # still calling after its rounds: code's step answers this turn
                yield OutputChecked(ok=False, problems=[f"more than {MAX_TOOL_ROUNDS} rounds of tool calls"])
                break
            messages.append(answer)
            for c in calls:
                yield ToolCalled(name=c["name"], arguments=dict(c.get("args") or {}))
                try:
                    result = call(c["name"], tc, c.get("args") or {})
                    if c["name"] == "compose_music":
                        on_music(result)
                        shown = {"piece_id": result["piece_id"], "seconds": result["seconds"],
                                 "why": result["why"]}
                    else:
                        shown = result
                        citable |= {p["id"] for p in result.get("passages", [])}
                except AttuneError as exc:  # a refusal the model reads and can work within
                    shown = {"refused": str(exc)}
                yield ToolResult(name=c["name"], result=shown)
                messages.append(ToolMessage(content=json.dumps(shown, default=str)[:4000], tool_call_id=c["id"]))
    except BackendUnreachable as exc:
        yield Notice(str(exc))
        reply = None
    reply = (reply or "").strip()
    if reply and (problems := reply_problems(reply)):
        yield OutputChecked(ok=False, problems=problems)
        reply = ""
    if reply:
        verdict = t.ctx.output_guard.screen(reply, canary=t.ctx.canary,
                                            allowed_source_ids=citable)
        yield OutputChecked(ok=verdict.ok, problems=list(verdict.problems))
        if not verdict.ok:
            reply = ""
    yield reply or None  # type: ignore[misc]


def wants_agent(settings: Any, backend: Any) -> bool:
    """Agent mode: asked for, or automatic with a backend that calls tools."""
    mode = getattr(settings, "agent", "auto")
    return mode == "tools" or (mode == "auto" and bool(getattr(backend, "supports_tools", False)))
