"""Settings: environment, config file, and errors that name the setting."""

import pytest

from attune.agent.config import load_settings
from attune.common.errors import ConfigError


@pytest.mark.parametrize(
    "env, named",
    [
        ({"ATTUNE_PORT": "70000"}, "ATTUNE_PORT"),
        ({"ATTUNE_PORT": "abc"}, "ATTUNE_PORT"),
        ({"ATTUNE_LLM": "gpt5"}, "ATTUNE_LLM"),
        ({"ATTUNE_LLM_TEMPERATURE": "-1"}, "ATTUNE_LLM_TEMPERATURE"),
        ({"ATTUNE_OPENAI_BASE_URL": "localhost:8000"}, "ATTUNE_OPENAI_BASE_URL"),
        ({"ATTUNE_LOCALE": ""}, "ATTUNE_LOCALE"),
        ({"ATTUNE_MAX_MESSAGE_CHARS": "0"}, "ATTUNE_MAX_MESSAGE_CHARS"),
        ({"ATTUNE_UNKNOWN_THING": "1"}, None),  # unknown env vars are ignored, not fatal
    ],
    ids=["port-range", "port-text", "llm-name", "temperature", "url-scheme", "locale-empty",
         "max-chars-zero", "unknown-env"],
)
def test_bad_values_fail_naming_the_setting(monkeypatch, env, named):
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    if named is None:
        load_settings()
        return
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert named in str(info.value)


def test_defaults_and_derived_paths(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTUNE_DATA_DIR", str(tmp_path))
    s = load_settings()
    assert s.llm == "local" and s.port == 7860 and s.host == "127.0.0.1"
    assert s.resolved_database_url == f"sqlite:///{tmp_path / 'attune.db'}"
    assert s.resolved_key_file == tmp_path / "attune.key"


def test_config_file_then_environment_wins(tmp_path, monkeypatch):
    cfg = tmp_path / "attune.toml"
    cfg.write_text('port = 9000\nlocale = "gb"\nllm = "scripted"\n')
    monkeypatch.setenv("ATTUNE_CONFIG", str(cfg))
    s = load_settings()
    assert (s.port, s.locale, s.llm) == (9000, "GB", "scripted")
    monkeypatch.setenv("ATTUNE_PORT", "9100")
    assert load_settings().port == 9100


@pytest.mark.parametrize("content, suffix", [("port = [", ".toml"), ("- a\n- b", ".yaml")],
                         ids=["broken-toml", "yaml-list"])
def test_bad_config_file_is_named(tmp_path, monkeypatch, content, suffix):
    cfg = tmp_path / f"attune{suffix}"
    cfg.write_text(content)
    monkeypatch.setenv("ATTUNE_CONFIG", str(cfg))
    with pytest.raises(ConfigError) as info:
        load_settings()
    assert str(cfg) in str(info.value)


def test_missing_config_file_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv("ATTUNE_CONFIG", str(tmp_path / "nope.toml"))
    with pytest.raises(ConfigError, match="nope.toml"):
        load_settings()


def test_an_empty_data_folder_is_refused_so_no_data_lands_in_the_working_folder(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("ATTUNE_DATA_DIR", "")
    with pytest.raises(ConfigError, match="ATTUNE_DATA_DIR"):
        load_settings()
    assert list(tmp_path.iterdir()) == []
