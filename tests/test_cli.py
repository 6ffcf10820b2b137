"""The ``attune`` command as a user runs it: JSON on stdout, clean errors on stderr."""

import json

import pytest

from tests.cli_helpers import run_attune

SCRIPTED = {"ATTUNE_LLM": "scripted"}


def test_ask_prints_the_contract_and_stores_the_turn(tmp_path):
    out = run_attune(["ask", "I had a rough day"], tmp_path, env=SCRIPTED)
    assert out.returncode == 0, out.stderr.decode()
    result = json.loads(out.stdout)
    assert set(result) == {"reply", "action", "mood", "music", "sources", "session"}
    assert result["action"] in {"allow", "crisis", "block"} and result["reply"]
    # the same session continues and holds both turns
    again = run_attune(["ask", "It was about work", "--session", result["session"]], tmp_path, env=SCRIPTED)
    assert again.returncode == 0, again.stderr.decode()
    assert json.loads(again.stdout)["session"] == result["session"]
    assert (tmp_path / "attune.db").exists() and (tmp_path / "attune.key").exists()


@pytest.mark.parametrize(
    "args, stdin, expect",
    [
        (["ask", ""], None, "empty"),
        (["ask", "   \n\t "], None, "empty"),
        (["ask", "-"], b"x" * 1_048_576, "limit"),
        (["ask", "-"], b"\xff\xfe\x00\x01\x02", "empty"),
    ],
    ids=["empty", "whitespace", "one-megabyte", "binary-junk"],
)
def test_bad_messages_get_a_clear_error(tmp_path, args, stdin, expect):
    out = run_attune(args, tmp_path, stdin=stdin, env=SCRIPTED)
    assert out.returncode == 2
    err = out.stderr.decode()
    assert expect in err and "Traceback" not in err
    assert out.stdout == b""


def test_control_characters_and_invalid_utf8_are_cleaned(tmp_path):
    out = run_attune(["ask", "-"], tmp_path, stdin=b"I feel \x1b[31mtense\x07 today \xff\xfe", env=SCRIPTED)
    assert out.returncode == 0, out.stderr.decode()
    assert json.loads(out.stdout)["reply"]


def test_unknown_session_is_refused(tmp_path):
    out = run_attune(["ask", "hello", "--session", "00000000-0000-0000-0000-000000000000"], tmp_path, env=SCRIPTED)
    assert out.returncode == 2 and "does not exist" in out.stderr.decode()


def test_corrupt_database_is_a_clear_error_and_untouched(tmp_path):
    db = tmp_path / "attune.db"
    db.write_bytes(b"garbage" * 1000)
    out = run_attune(["ask", "hello"], tmp_path, env=SCRIPTED)
    assert out.returncode == 2
    assert "not a SQLite database" in out.stderr.decode() and "Traceback" not in out.stderr.decode()
    assert db.read_bytes() == b"garbage" * 1000


def test_bad_setting_fails_at_start(tmp_path):
    out = run_attune(["ask", "hello"], tmp_path, env={"ATTUNE_PORT": "99999"})
    assert out.returncode == 2 and "ATTUNE_PORT" in out.stderr.decode()


def test_unreachable_llm_server_is_a_clear_notice_and_the_turn_goes_on(tmp_path):
    # no reason of the person's own to reflect, so the model is asked for the words
    out = run_attune(["ask", "I feel so heavy and flat"], tmp_path,
                     env={"ATTUNE_LLM": "openai", "ATTUNE_LLM_TIMEOUT": "3",
                          "ATTUNE_OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    err = out.stderr.decode()
    assert "127.0.0.1:9" in err and "did not answer" in err and "Traceback" not in err
    assert out.returncode == 0 and json.loads(out.stdout)["reply"]  # code wrote the reflection instead


def test_chat_reads_lines_and_survives_a_bad_one(tmp_path):
    stdin = b"hello there\n\n" + b"y" * 5000 + b"\nI feel calmer now\nquit\n"
    out = run_attune(["chat"], tmp_path, stdin=stdin, env=SCRIPTED)
    assert out.returncode == 0, out.stderr.decode()
    text = out.stdout.decode()
    assert text.count("attune>") == 3 and "limit is 4,000" in text


@pytest.mark.real_model
@pytest.mark.slow
def test_ask_with_the_real_embedded_model(tmp_path):
    out = run_attune(["ask", "I had a rough day"], tmp_path)
    assert out.returncode == 0, out.stderr.decode()[-2000:]
    result = json.loads(out.stdout)
    assert len(result["reply"].split()) >= 3
    from attune.agent.config import load_settings
    from attune.agent.store import open_store

    store = open_store(load_settings(data_dir=tmp_path))
    pid = store.session_owner(result["session"])
    assert [t["role"] for t in store.turns(result["session"], pid)] == ["patient", "assistant"]
