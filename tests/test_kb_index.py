"""Index building: change detection, bad documents, corrupt folders, clinic files.

These use a small copy of the corpus so that each build takes about a second.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from attune.common.errors import InputError
from attune.knowledge.corpus import core_corpus_dir
from attune.knowledge.index import CORE_COLLECTION, KnowledgeIndex
from attune.knowledge.retrieve import Retriever

SMALL = ["music-for-sleep", "hearing-safety-volume", "crisis-response", "iso-principle"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    folder = tmp_path / "corpus"
    folder.mkdir()
    for doc_id in SMALL:
        shutil.copy(core_corpus_dir() / f"{doc_id}.md", folder / f"{doc_id}.md")
    return folder


@pytest.fixture(autouse=True)
def _fresh_chroma_cache():
    # chromadb keeps one system per path in a process-wide cache.
    from chromadb.api.shared_system_client import SharedSystemClient

    yield
    SharedSystemClient.clear_system_cache()


def test_second_build_is_a_no_op_and_a_content_change_rebuilds(tmp_path: Path, corpus: Path) -> None:
    index = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus)
    first = index.build()
    assert first.built and first.documents == len(SMALL)
    assert not index.build().built
    (corpus / "iso-principle.md").touch()  # a new mtime alone changes nothing
    assert not KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build().built
    path = corpus / "music-for-sleep.md"
    path.write_text(path.read_text() + "\nKeep a sleep diary for two weeks.\n")
    again = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build()
    assert again.built and again.reason == "the corpus changed"


def test_malformed_document_is_reported_and_the_rest_index(tmp_path: Path, corpus: Path, caplog) -> None:
    (corpus / "zz-broken.md").write_text("---\ntitle: No id or sources\n---\n\n## A\n\ntext\n")
    with caplog.at_level(logging.WARNING, logger="attune.knowledge"):
        report = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build()
    assert report.documents == len(SMALL)
    assert [p.path for p in report.problems] == ["zz-broken.md"]
    assert "id is missing" in report.problems[0].message
    assert "sources is missing" in report.problems[0].message
    assert "zz-broken.md" in caplog.text
    hits = Retriever(tmp_path / "data", corpus_dir=corpus).search("headphone volume", k=1)
    assert hits[0].doc_id == "hearing-safety-volume"


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a database" * 100)


def _truncated(path: Path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])


def _empty(path: Path) -> None:
    path.write_bytes(b"")  # chromadb sees a new database: a silent rebuild


@pytest.mark.parametrize("damage,warned", [(_garbage, True), (_truncated, True), (_empty, False)],
                         ids=["garbage-sqlite", "truncated-sqlite", "empty-sqlite"])
def test_corrupt_index_folder_is_rebuilt(tmp_path: Path, corpus: Path, caplog, damage, warned) -> None:
    from chromadb.api.shared_system_client import SharedSystemClient

    KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build()
    SharedSystemClient.clear_system_cache()
    damage(tmp_path / "data" / "chroma" / "chroma.sqlite3")
    with caplog.at_level(logging.WARNING, logger="attune.knowledge"):
        index = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus)
        report = index.build()
    assert report.built
    if warned:
        assert "could not be opened" in caplog.text
        assert any("rebuilt" in m for m in report.messages)
    assert Retriever(index=index).search("sleep at night", k=1)[0].doc_id == "music-for-sleep"


def test_index_from_an_older_layout_is_rebuilt(tmp_path: Path, corpus: Path, caplog) -> None:
    index = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus)
    index.build()
    collection = index.get_collection(CORE_COLLECTION)
    collection.modify(metadata={**collection.metadata, "index_version": 1})
    with caplog.at_level(logging.WARNING, logger="attune.knowledge"):
        report = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build()
    assert report.built and "version 1" in report.reason
    assert "Rebuilding" in caplog.text


REOPEN = textwrap.dedent("""\
    import sys, chromadb
    from attune.knowledge.embedding import MiniLMEmbeddingFunction
    from attune.knowledge.retrieve import Retriever
    MiniLMEmbeddingFunction()  # registers the function, as any use of the index does
    client = chromadb.PersistentClient(path=sys.argv[1] + "/chroma",
                                       settings=chromadb.Settings(anonymized_telemetry=False))
    col = client.get_collection("attune-kb-core")  # no embedding function passed
    assert col.configuration["embedding_function"].name() == "attune-minilm-int8"
    raw = col.query(query_texts=["how loud can my headphones be"], n_results=1)["ids"][0][0]
    ours = Retriever(sys.argv[1], corpus_dir=sys.argv[2]).search("how loud can my headphones be", k=1)[0].id
    print(raw, ours)
""")


def test_reopened_index_queries_offline_in_a_new_process(tmp_path: Path, corpus: Path) -> None:
    KnowledgeIndex(tmp_path / "data", corpus_dir=corpus).build()
    home = tmp_path / "home"  # chromadb's default model would be downloaded under $HOME/.cache
    env = {"HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "PATH": "/usr/bin:/bin", "ANONYMIZED_TELEMETRY": "False"}
    out = subprocess.run([sys.executable, "-c", REOPEN, str(tmp_path / "data"), str(corpus)],
                         capture_output=True, text=True, env=env, timeout=60)
    assert out.returncode == 0, out.stderr
    raw, ours = out.stdout.split()
    assert raw == ours and raw.startswith("hearing-safety-volume#")
    assert not (home / ".cache" / "chroma").exists()


def test_clinic_documents_are_searched_alongside_the_core(tmp_path: Path, corpus: Path) -> None:
    txt = tmp_path / "referral-pathway.txt"
    txt.write_text("Riverside referral pathway\n\nPatients who score 3 or more on the PHQ-2 are "
                   "booked with the Riverside wellbeing nurse within five working days.")
    md = tmp_path / "night-line.md"
    md.write_text((core_corpus_dir() / "crisis-response.md").read_text()
                  .replace("id: crisis-response", "id: riverside-night-line"))
    index = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus)
    report = index.add_documents([txt, md], clinic="Riverside")
    assert report.built and report.documents == 2
    assert not index.add_documents([txt], clinic="Riverside").built  # same content: no-op
    retriever = Retriever(tmp_path / "data", corpus_dir=corpus, clinic="Riverside")
    top = retriever.search("who do I see after a positive PHQ-2 at Riverside", k=1)[0]
    assert top.doc_id == "clinic-riverside-referral-pathway"
    assert top.evidence_level == "clinician-provided"
    other = Retriever(tmp_path / "data", corpus_dir=corpus, clinic="elsewhere")
    assert all(not p.doc_id.startswith("clinic-") for p in other.search("Riverside wellbeing nurse", k=5))


@pytest.mark.parametrize("name,content,expected", [
    ("missing.txt", None, "no such file"),
    ("slides.pdf", "binary", "only Markdown"),
    ("bad-header.md", "---\nid: x\n---\n\n## A\n\ntext", "bad-header.md"),
    ("empty.txt", "   ", "empty"),
], ids=["missing", "wrong-type", "bad-front-matter", "empty"])
def test_bad_clinic_files_add_nothing(tmp_path: Path, corpus: Path, name, content, expected) -> None:
    good = tmp_path / "good.txt"
    good.write_text("A perfectly good note about the clinic.")
    bad = tmp_path / name
    if content is not None:
        bad.write_text(content)
    index = KnowledgeIndex(tmp_path / "data", corpus_dir=corpus)
    with pytest.raises(InputError, match=expected):
        index.add_documents([good, bad], clinic="default")
    assert not index.clinic_dir("default").exists() or not any(index.clinic_dir("default").iterdir())


def test_construction_and_import_are_lazy(tmp_path: Path) -> None:
    Retriever(tmp_path / "data")
    assert not (tmp_path / "data").exists()
    code = ("import sys, attune.knowledge.retrieve, attune.knowledge.index, attune.knowledge.cli;"
            "print(sorted(m for m in ('chromadb', 'onnxruntime') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.stdout.strip() == "[]", out.stderr
