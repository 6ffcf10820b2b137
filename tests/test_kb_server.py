"""The scale path: the same index on a real Chroma server started by the test."""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from attune.knowledge.corpus import core_corpus_dir
from tests.ui_helpers import free_port, stop_process
from attune.knowledge.index import KnowledgeIndex
from attune.knowledge.retrieve import Retriever

pytestmark = pytest.mark.slow


@pytest.fixture
def chroma_server(tmp_path: Path):
    chroma = Path(sys.executable).with_name("chroma")
    if not chroma.exists():
        pytest.fail(f"the chroma console script is missing next to {sys.executable}")
    port = free_port()
    proc = subprocess.Popen([str(chroma), "run", "--path", str(tmp_path / "server"), "--port", str(port),
                             "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30  # seconds
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"chroma run did not start: {proc.stderr.read().decode()[-500:] if proc.poll() is not None else 'timeout'}")
            time.sleep(0.2)
        yield url
    finally:
        stop_process(proc)


def test_build_and_search_against_a_chroma_server(tmp_path: Path, chroma_server: str) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for doc_id in ["music-for-sleep", "hearing-safety-volume", "resonance-breathing"]:
        shutil.copy(core_corpus_dir() / f"{doc_id}.md", corpus)
    index = KnowledgeIndex(tmp_path / "data", chroma_url=chroma_server, corpus_dir=corpus)
    assert index.build().built
    assert not KnowledgeIndex(tmp_path / "data", chroma_url=chroma_server, corpus_dir=corpus).build().built
    retriever = Retriever(tmp_path / "data", chroma_url=chroma_server, corpus_dir=corpus)
    top = retriever.search("how many breaths per minute", k=2, topics=["breathing"])
    assert top and all("breathing" in p.topics for p in top)
    assert top[0].doc_id == "resonance-breathing"
    assert not (tmp_path / "data" / "chroma").exists()  # nothing written locally
