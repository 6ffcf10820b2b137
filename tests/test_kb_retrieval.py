"""Search over the full corpus: filters, edge-case queries, recall@3, the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from attune.common.errors import BackendUnreachable, InputError
from attune.knowledge.cli import main
from attune.knowledge.evaluate import RECALL_GOAL, evaluate, load_questions
from attune.knowledge.index import KnowledgeIndex
from attune.knowledge.retrieve import Retriever


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("kb")
    KnowledgeIndex(folder).build()
    return folder


@pytest.fixture(scope="module")
def retriever(data_dir: Path) -> Retriever:
    return Retriever(data_dir)


@pytest.mark.parametrize("query", ["", "   ", "\n\t"], ids=["empty", "spaces", "whitespace"])
def test_empty_query_is_an_input_error(retriever: Retriever, query: str) -> None:
    with pytest.raises(InputError, match="query was empty"):
        retriever.search(query)


@pytest.mark.parametrize("k", [0, -1, 51, True], ids=["zero", "negative", "too-many", "bool"])
def test_bad_k_is_an_input_error(retriever: Retriever, k) -> None:
    with pytest.raises(InputError, match="k must be"):
        retriever.search("sleep", k=k)


@pytest.mark.parametrize("query", [
    "a",
    "\U0001f3b5\U0001f622",
    "\u97f3\u697d\u3067\u7720\u308c\u307e\u3059\u304b",
    "I cannot sleep. " * 400,
], ids=["one-char", "emoji", "other-script", "very-long"])
def test_odd_queries_still_return_k_citable_passages(retriever: Retriever, query: str) -> None:
    passages = retriever.search(query, k=3)
    assert len(passages) == 3
    for p in passages:
        assert p.id.startswith(p.doc_id + "#")
        assert p.source and p.references and -1.0 <= p.score <= 1.0


@pytest.mark.parametrize("topics,conditions,query", [
    (["sleep"], None, "what helps at night"),
    (None, ["epilepsy"], "is music safe for me"),
    (["crisis"], ["suicidality"], "what should I do"),
    (["sleep", "hearing"], None, "how loud"),
    ("breathing", "anxiety", "slow down"),
], ids=["topic", "condition", "topic-and-condition", "any-of-two-topics", "strings"])
def test_filters_restrict_results(retriever: Retriever, topics, conditions, query) -> None:
    passages = retriever.search(query, k=5, topics=topics, conditions=conditions)
    assert passages
    want_topics = [topics] if isinstance(topics, str) else topics
    want_conditions = [conditions] if isinstance(conditions, str) else conditions
    for p in passages:
        if want_topics:
            assert set(want_topics) & set(p.topics), p.id
        if want_conditions:
            assert set(want_conditions) & set(p.conditions), p.id


def test_unknown_topic_returns_nothing(retriever: Retriever) -> None:
    assert retriever.search("sleep", topics=["astrology"]) == []


def test_recall_at_3_meets_the_goal(retriever: Retriever) -> None:
    questions = load_questions()
    assert len(questions) >= 40
    report = evaluate(retriever, k=3)
    assert report.recall >= RECALL_GOAL, [m.model_dump() for m in report.misses]


def test_question_set_points_at_real_documents(retriever: Retriever) -> None:
    from attune.knowledge.corpus import core_corpus_dir, load_corpus

    ids = {d.id for d in load_corpus(core_corpus_dir())[0]}
    for q in load_questions():
        assert set(q.answers) <= ids, q.id


def test_cli_query_prints_the_contract_json(data_dir: Path, capsys) -> None:
    code = main(["--data-dir", str(data_dir), "kb", "query", "headphone volume", "-k", "2"])
    rows = json.loads(capsys.readouterr().out)
    assert code == 0 and len(rows) == 2
    assert set(rows[0]) == {"id", "title", "source", "text", "score"}
    assert rows[0]["id"].startswith("hearing-safety-volume#")


def test_cli_build_is_a_no_op_when_current(data_dir: Path, capsys) -> None:
    assert main(["--data-dir", str(data_dir), "kb", "build"]) == 0
    assert json.loads(capsys.readouterr().out)["built"] is False


def test_cli_empty_query_fails_cleanly(data_dir: Path, capsys) -> None:
    assert main(["--data-dir", str(data_dir), "kb", "query", " "]) == InputError.exit_code
    captured = capsys.readouterr()
    assert captured.out == "" and "query was empty" in captured.err


def test_unreachable_server_is_reported(tmp_path: Path) -> None:
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(BackendUnreachable, match=f"127.0.0.1:{port} did not answer"):
        Retriever(tmp_path, chroma_url=f"http://127.0.0.1:{port}").search("sleep")


def test_a_question_inside_a_longer_message_finds_the_document_that_answers_it(retriever: Retriever) -> None:
    from attune.knowledge.questions import MIN_PASSAGE_SCORE, answer_passages

    found = answer_passages(retriever, "better. why did it start so low though?", k=2)
    assert found and found[0].doc_id == "iso-principle"
    # nothing off the subject rides along: seen before, a crisis-helpline statistic was cited here
    assert all(p.doc_id == "iso-principle" or p.score >= MIN_PASSAGE_SCORE for p in found)
    assert not any(p.doc_id.startswith("safety-planning") for p in found)


def test_no_passage_is_cited_when_nothing_answers_the_question(retriever: Retriever) -> None:
    from attune.knowledge.questions import MIN_PASSAGE_SCORE, answer_passages

    assert all(p.score >= MIN_PASSAGE_SCORE for p in answer_passages(retriever, "why the purple one though?", k=3))


@pytest.mark.parametrize("question, section", [
    ("how do I actually do the slow breathing, step by step?", "resonance-breathing#how-to-practise"),
    pytest.param("is there research showing slow breathing helps?", "resonance-breathing#what-the-evidence-shows",
                 marks=pytest.mark.xfail(strict=True, reason="known miss: the cautions section's questions say "
                                         "'slow breathing' most, and its character n-grams win")),
    ("i've got a heart problem, is slow breathing ok for me", "resonance-breathing#cautions"),
    ("what should I put on at bedtime and for how long?", "music-for-sleep#how-to-use-music-at-bedtime"),
])
def test_the_section_that_answers_the_question_is_cited_first(retriever: Retriever, question: str,
                                                              section: str) -> None:
    """Within the answering document, the section whose authored questions the question reads like comes
    first (before: the passage nearest in wording, which for a breathing question was often the cautions)."""
    from attune.knowledge.questions import answer_passages

    found = answer_passages(retriever, question, k=2)
    assert found and found[0].id == section, [p.id for p in found]
