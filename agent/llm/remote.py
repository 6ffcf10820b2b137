"""Remote and optional backends: any OpenAI-compatible server, and llama.cpp.

``openai`` reaches vLLM, a llama.cpp server, Ollama or any server speaking
the OpenAI chat API (``ATTUNE_OPENAI_BASE_URL``, ``ATTUNE_OPENAI_MODEL``, and
the key in the variable named by ``ATTUNE_OPENAI_API_KEY_ENV``). An
unreachable server becomes ``BackendUnreachable`` with the URL, not a
traceback. ``llamacpp`` runs the same GGUF in-process through
llama-cpp-python (opt-in extra: it compiles on install).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

from langchain_core.language_models.chat_models import BaseChatModel
from langchain_core.messages import AIMessageChunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from pydantic import ConfigDict, PrivateAttr

from attune.common.errors import BackendUnreachable, ModelUnavailable
from . import guard
from .base import StreamedChatModel, as_chat

__all__ = ["openai_model", "LlamaCppChatModel"]



def openai_model(base_url: str, model: str, api_key_env: str, timeout: float,
                 max_tokens: int, temperature: float) -> BaseChatModel:
    from langchain_openai import ChatOpenAI

    class GuardedChatOpenAI(ChatOpenAI):
        def _stream(self, *args: Any, **kwargs: Any) -> Iterator[ChatGenerationChunk]:
            guard.check("openai")
            kwargs.pop("prefill", None)
            if "max_new_tokens" in kwargs:
                kwargs["max_tokens"] = kwargs.pop("max_new_tokens")
            if "max_tokens" in kwargs:
                kwargs["extra_body"] = {**(self.extra_body or {}), "max_tokens": kwargs["max_tokens"]}
            try:
                yield from super()._stream(*args, **kwargs)
            except Exception as exc:  # openai raises its own connection/timeouts errors
                raise _translate(exc, base_url) from None

        def _get_request_payload(self, *args: Any, **kwargs: Any) -> dict:
            payload = super()._get_request_payload(*args, **kwargs)
            for m in payload.get("messages", []):  # a tool-calling turn has no words: llama-cpp-python's
                if m.get("content") is None:        # server refuses null content (HTTP 422), others take ""
                    m["content"] = ""
            return payload

        def _generate(self, *args: Any, **kwargs: Any) -> ChatResult:
            guard.check("openai")
            kwargs.pop("prefill", None)
            kwargs.pop("max_new_tokens", None)
            try:
                return super()._generate(*args, **kwargs)
            except Exception as exc:
                raise _translate(exc, base_url) from None

    key = os.environ.get(api_key_env) or "not-needed"  # local servers accept any key
    # langchain-openai sends the cap as max_completion_tokens only; llama-cpp-python's server and older
    # servers read max_tokens and otherwise generate up to the context size (seen: 118 s for one reply)
    return GuardedChatOpenAI(base_url=base_url, model=model, api_key=key, timeout=timeout,
                             max_retries=1, max_tokens=max_tokens, temperature=temperature,
                             streaming=True, extra_body={"max_tokens": max_tokens})


def _translate(exc: Exception, base_url: str) -> Exception:
    import openai

    if isinstance(exc, (openai.APIConnectionError, openai.APITimeoutError)):
        return BackendUnreachable(
            f"The LLM server at {base_url} did not answer ({type(exc).__name__}). Check that it is "
            "running and ATTUNE_OPENAI_BASE_URL is right, or use ATTUNE_LLM=local."
        )
    if isinstance(exc, openai.APIStatusError):
        return BackendUnreachable(f"The LLM server at {base_url} refused the request "
                                  f"(HTTP {exc.status_code}): {exc.message}")
    return exc


class LlamaCppChatModel(StreamedChatModel):
    """llama-cpp-python on a GGUF file (the ``llamacpp`` extra)."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    model_path: Path
    max_new_tokens: int = 96
    temperature: float = 0.0
    _llm: Any = PrivateAttr(default=None)

    @property
    def _llm_type(self) -> str:
        return "attune-llamacpp"

    def _load(self) -> Any:
        if self._llm is None:
            try:
                from llama_cpp import Llama
            except ImportError:
                raise ModelUnavailable("The llamacpp backend needs llama-cpp-python: run "
                                       "`.venv/bin/pip install -e '.[llamacpp]'` (compiles, ~8 min).") from None
            self._llm = Llama(model_path=str(self.model_path), n_ctx=2048, verbose=False)
        return self._llm

    def _stream(self, messages, stop=None, run_manager=None, **kwargs) -> Iterator[ChatGenerationChunk]:
        guard.check("llamacpp")
        llm = self._load()
        chat = as_chat(messages)
        prefill = kwargs.get("prefill", "")
        if prefill:
            chat.append({"role": "assistant", "content": prefill})
        for part in llm.create_chat_completion(chat, stream=True, stop=stop,
                                               max_tokens=int(kwargs.get("max_new_tokens") or self.max_new_tokens),
                                               temperature=self.temperature):
            text = part["choices"][0]["delta"].get("content")
            if text:
                yield ChatGenerationChunk(message=AIMessageChunk(content=text))
