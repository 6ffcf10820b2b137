"""A scripted fake chat model shipped for tests (STYLE.md 9).

``enqueue`` replies; every call is recorded in ``calls`` (the messages and
the prefill it received). A queued ``AIMessage`` with ``tool_calls`` stands
for a model that calls tools (agent mode); ``bind_tools`` records the tools. With an empty queue it answers a fixed, visibly
fake line so a test that forgot to enqueue fails on content, not on a hang.
Each reply streams word by word so streaming paths are exercised.
"""

from __future__ import annotations

import threading
from collections import deque
from typing import Any, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGeneration, ChatGenerationChunk, ChatResult
from pydantic import PrivateAttr

from .base import ChatBackend

__all__ = ["ScriptedChatModel", "scripted_backend", "EMPTY_QUEUE_REPLY"]

EMPTY_QUEUE_REPLY = "[scripted model: no reply queued]"


class ScriptedChatModel(BaseChatModel):
    """Replays queued replies; records calls."""

    _queue: deque = PrivateAttr(default_factory=deque)
    _calls: list = PrivateAttr(default_factory=list)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    @property
    def _llm_type(self) -> str:
        return "attune-scripted"

    def enqueue(self, *replies: Any) -> "ScriptedChatModel":
        """Replies in order: a string, an AIMessage (with tool_calls), or an exception to raise."""
        with self._lock:
            self._queue.extend(replies)
        return self

    @property
    def calls(self) -> list[dict]:
        return list(self._calls)

    _tools: list = PrivateAttr(default_factory=list)

    @property
    def bound_tools(self) -> list:
        return list(self._tools)

    _choices: list = PrivateAttr(default_factory=list)

    @property
    def tool_choices(self) -> list:
        """The ``tool_choice`` of each bind_tools call, in order (None: the model chooses)."""
        return list(self._choices)

    def bind_tools(self, tools, **kwargs: Any) -> "ScriptedChatModel":
        self._tools = [getattr(t, "name", t) for t in tools]
        self._choices.append(kwargs.get("tool_choice"))
        return self

    def _next(self, messages: list[BaseMessage], kwargs: dict) -> Any:
        with self._lock:
            self._calls.append({"messages": [(m.type, m.content) for m in messages],
                                "prefill": kwargs.get("prefill", "")})
            reply = self._queue.popleft() if self._queue else EMPTY_QUEUE_REPLY
        if isinstance(reply, Exception):  # a scripted failure: a timeout, a server gone away
            raise reply
        return reply

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        from langchain_core.messages import AIMessage
        reply = self._next(messages, kwargs)
        message = reply if isinstance(reply, AIMessage) else AIMessage(content=reply)
        return ChatResult(generations=[ChatGeneration(message=message)])

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        reply = self._next(messages, kwargs)
        reply = reply if isinstance(reply, str) else str(reply.content)
        words = reply.split(" ")
        for i, word in enumerate(words):
            yield ChatGenerationChunk(message=AIMessageChunk(content=word + (" " if i < len(words) - 1 else "")))


def scripted_backend(*replies: str) -> ChatBackend:
    model = ScriptedChatModel()
    model.enqueue(*replies)
    return ChatBackend(name="scripted", model=model, supports_prefill=True)
