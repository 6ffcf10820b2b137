"""Settings: one object read from ``ATTUNE_*`` variables and an optional file.

Precedence, highest first: keyword arguments, environment variables, the
config file (``ATTUNE_CONFIG``, TOML or YAML, or ``attune.toml`` in the data
folder), defaults. A bad value fails at start with a message naming the
setting (``ATTUNE_PORT``), never deep inside a turn.
"""

from __future__ import annotations

import os
import tomllib
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import platformdirs
import yaml
from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from attune.common.errors import ConfigError
from attune.common.data import load_yaml

__all__ = ["Settings", "load_settings", "default_models_dir", "DEFAULT_SOUNDFONT"]

DEFAULT_SOUNDFONT = "/usr/share/sounds/sf2/FluidR3_GM.sf2"
MAX_MESSAGE_CHARS_DEFAULT = 4000  # characters; a long message is refused, not cut
#: The personal code of the single local user of the command line (``attune chat``, ``attune ask``) on
#: one's own machine. Never used by the web app: every browser there is its own patient (``attune.agent.codes``).
LOCAL_PATIENT_CODE = "local-user"


class _FileSource(PydanticBaseSettingsSource):
    """Values from the optional config file (TOML or YAML)."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        super().__init__(settings_cls)
        self.path = path

    def get_field_value(self, field, field_name):  # pragma: no cover - unused API
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        if self.path is None or not self.path.exists():
            return {}
        text = self.path.read_text(encoding="utf-8")
        try:
            data = tomllib.loads(text) if self.path.suffix == ".toml" else load_yaml(text)
        except (tomllib.TOMLDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(f"The config file {self.path} cannot be parsed: {exc}") from None
        if data is None:
            return {}
        if not isinstance(data, dict):
            raise ConfigError(f"The config file {self.path} must hold a table of settings.")
        return data.get("attune", data)


class Settings(BaseSettings):
    """Everything Attune can be configured with. Field ``x`` is ``ATTUNE_X``."""

    model_config = SettingsConfigDict(env_prefix="ATTUNE_", extra="forbid", validate_default=True)

    data_dir: Path = Field(default_factory=lambda: Path(platformdirs.user_data_dir("attune")))
    # local: the embedded model on ONNX Runtime GenAI (int8); ctranslate2 / transformers: the same model
    # on CTranslate2 (int8) or PyTorch
    llm: Literal["local", "ctranslate2", "transformers", "openai", "llamacpp", "scripted"] = "local"
    # who leads a turn: "guided" (code's protocol, the model words within a frame), "tools" (the model
    # holds the conversation and calls Attune's tools), "auto" (tools when the backend can call them)
    agent: Literal["auto", "guided", "tools"] = "auto"
    model_path: Path | None = None  # a local HF folder or a .gguf file instead of SmolLM2
    model_cache_dir: Path | None = None  # where the converted model copy goes (default: user cache)
    llm_dtype: Literal["bfloat16", "float32"] = "bfloat16"
    llm_max_new_tokens: int = Field(default=96, ge=8, le=4096)
    llm_temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    llm_timeout: float = Field(default=60.0, gt=0, le=3600)  # seconds
    openai_base_url: str = "http://127.0.0.1:8000/v1"
    openai_model: str = "default"
    openai_api_key_env: str = "OPENAI_API_KEY"  # name of the variable holding the key
    soundfont: Path = Path(DEFAULT_SOUNDFONT)
    database_url: str | None = None  # default: SQLite in the data folder
    key_file: Path | None = None  # default: <data_dir>/attune.key
    key: str | None = None  # a Fernet key given directly (ATTUNE_KEY); wins over key_file
    chroma_url: str | None = None  # a Chroma server; default: a persistent folder
    locale: str = "US"
    profile: str = "default"
    host: str = "127.0.0.1"
    port: int = Field(default=7860, ge=1, le=65535)
    max_message_chars: int = Field(default=MAX_MESSAGE_CHARS_DEFAULT, ge=1, le=200_000)
    gradio_concurrency: int = Field(default=8, ge=1, le=256)
    # opt-in EEG headset through BrainFlow: a board name ("muse_2", "ganglion", "cyton", ... or
    # "synthetic" for a demo without a device); empty means no headset and no EEG button
    eeg_board: str = ""
    eeg_serial_port: str = ""  # e.g. /dev/ttyUSB0 (OpenBCI)
    eeg_mac_address: str = ""  # e.g. 00:55:DA:B3:20:7C (Muse over BLE)
    eeg_seconds: float = Field(default=10.0, ge=2.0, le=120.0)  # per live reading

    @classmethod
    def settings_customise_sources(cls, settings_cls, init_settings, env_settings,
                                   dotenv_settings, file_secret_settings):
        path = os.environ.get("ATTUNE_CONFIG")
        if path:
            file_path: Path | None = Path(path)
            if not file_path.exists():
                raise ConfigError(f"ATTUNE_CONFIG points to {path}, which does not exist.")
        else:
            data_dir = os.environ.get("ATTUNE_DATA_DIR") or platformdirs.user_data_dir("attune")
            file_path = Path(data_dir) / "attune.toml"
        return (init_settings, env_settings, _FileSource(settings_cls, file_path))

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir(cls, value):
        # ATTUNE_DATA_DIR="" once put a database and its key in the working folder
        if isinstance(value, str) and not value.strip():
            raise ValueError("the data folder is empty; give a folder, or unset the variable for the default")
        return value

    @field_validator("locale")
    @classmethod
    def _locale(cls, value: str) -> str:
        value = value.strip().upper().replace("_", "-")
        if not value or len(value) > 16:
            raise ValueError("a locale is a country or region code such as US, GB, IE, DE, ES, FR")
        return value

    @field_validator("openai_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/")

    # Derived paths ------------------------------------------------------
    @cached_property
    def resolved_key_file(self) -> Path:
        return self.key_file or self.data_dir / "attune.key"

    @cached_property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'attune.db'}"

    @property
    def pieces_dir(self) -> Path:
        return self.data_dir / "pieces"

    @property
    def models_dir(self) -> Path:
        """Converted model copies: derived from installed packages, no patient data, so shared."""
        return self.model_cache_dir or default_models_dir()


def default_models_dir() -> Path:
    """Where derived model files go without ATTUNE_MODEL_CACHE_DIR: the user's cache folder."""
    return Path(platformdirs.user_cache_dir("attune")) / "models"


def load_settings(**overrides: Any) -> Settings:
    """Read the settings, or raise ``ConfigError`` naming the bad setting."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            name = "_".join(str(p) for p in err["loc"] if isinstance(p, str)) or "?"
            given = err.get("input")
            shown = f" (given {given!r})" if given is not None and not isinstance(given, dict) else ""
            problems.append(f"ATTUNE_{name.upper()}{shown}: {err['msg']}")
        raise ConfigError("Bad setting: " + "; ".join(problems)) from None
