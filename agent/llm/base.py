"""The one small interface every LLM backend offers.

``ChatBackend`` wraps a LangChain chat model (the adapter boundary: no
LangChain type leaves this package). A request is a list of plain
``{"role", "content"}`` dicts plus an optional *prefill*: text that starts
the assistant's turn, which the small embedded model needs to stay on task
(PITFALLS.md). Backends that cannot prefill (remote servers) receive it as
an instruction instead and the caller's text is kept as the reply's start.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage
from langchain_core.outputs import ChatGeneration, ChatResult

__all__ = ["ChatBackend", "Message", "StreamedChatModel", "as_chat", "to_langchain", "until_stop"]

Message = dict[str, str]


def to_langchain(messages: list[Message]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "user": HumanMessage, "assistant": AIMessage}
    return [kinds[m["role"]](content=m["content"]) for m in messages]


def as_chat(messages: list[BaseMessage]) -> list[Message]:
    """LangChain messages as the ``{"role", "content"}`` dicts a chat template or server takes."""
    roles = {"system": "system", "human": "user", "ai": "assistant"}
    return [{"role": roles.get(m.type, "user"), "content": str(m.content)} for m in messages]


class StreamedChatModel(BaseChatModel):
    """A chat model whose whole reply is its streamed pieces joined (the local engines, llama.cpp)."""

    def _generate(self, messages, stop=None, run_manager=None, **kwargs) -> ChatResult:
        text = "".join(c.message.content for c in self._stream(messages, stop=stop, **kwargs))
        return ChatResult(generations=[ChatGeneration(message=AIMessage(content=text))])


def until_stop(pieces: Iterable[str], stop: list[str] | None) -> Iterator[str]:
    """A model's text pieces up to the first stop sequence (left out); one empty piece when nothing came,
    so the caller sees an empty reply rather than no reply. The embedded engines share it."""
    emitted = ""
    yielded = False
    for piece in pieces:
        if not piece:
            continue
        emitted += piece
        if stop and any(s in emitted for s in stop):
            cut = min(emitted.find(s) for s in stop if s in emitted)
            tail = piece[: max(0, len(piece) - (len(emitted) - cut))]
            if tail:
                yielded = True
                yield tail
            break
        yielded = True
        yield piece
    if not yielded:
        yield ""


@dataclass
class ChatBackend:
    """A named backend: ``stream`` yields text pieces, ``complete`` joins them."""

    name: str
    model: BaseChatModel
    supports_prefill: bool = False
    supports_tools: bool = False
    options: dict[str, Any] = field(default_factory=dict)

    def stream(self, messages: list[Message], *, prefill: str = "", max_new_tokens: int | None = None,
               stop: list[str] | None = None) -> Iterator[str]:
        """Yield the reply in pieces as the model writes them (the prefill is not repeated)."""
        lc = to_langchain(messages)
        kwargs: dict[str, Any] = {}
        if self.supports_prefill:
            kwargs["prefill"] = prefill
        elif prefill:
            lc.append(HumanMessage(content=f"Begin your reply with exactly: {prefill}"))
        if max_new_tokens:
            kwargs["max_new_tokens"] = max_new_tokens
        pending = "" if self.supports_prefill else prefill.strip()
        buffer = ""
        for chunk in self.model.stream(lc, stop=stop, **kwargs):
            text = chunk.content if isinstance(chunk.content, str) else "".join(
                part.get("text", "") for part in chunk.content if isinstance(part, dict))
            if pending:
                # a remote model usually repeats the requested opening: hold text until
                # we can tell, then drop the repeat once so the caller's prefill stands
                buffer += text
                if len(buffer.lstrip()) < len(pending):
                    continue
                head = buffer.lstrip()
                text = head[len(pending):] if head.startswith(pending) else buffer
                pending = buffer = ""
            if text:
                yield text
        if buffer and not buffer.strip().startswith(pending):
            yield buffer

    def complete(self, messages: list[Message], **kwargs: Any) -> str:
        return "".join(self.stream(messages, **kwargs))
