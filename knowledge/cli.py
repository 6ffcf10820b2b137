"""``attune kb``: build the guidance index, query it, add clinic documents, evaluate.

``register(subparsers)`` adds the ``kb`` command to the main parser; each
handler takes the argparse namespace (``data_dir`` and ``chroma_url`` may be
set by the main CLI from the settings) and returns an exit code. JSON goes to
stdout, messages and errors to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from attune.common.errors import AttuneError

__all__ = ["register", "run", "main"]


def _locate(ns: argparse.Namespace) -> tuple[Path, str | None]:
    from .index import default_data_dir

    data_dir = getattr(ns, "data_dir", None)
    data_dir = Path(data_dir) if data_dir else default_data_dir()
    chroma_url = getattr(ns, "chroma_url", None) or os.environ.get("ATTUNE_CHROMA_URL") or None
    return data_dir, chroma_url


def _print(obj: Any) -> None:
    sys.stdout.write(json.dumps(obj, ensure_ascii=False, indent=2) + "\n")


def _build(ns: argparse.Namespace) -> int:
    from .index import KnowledgeIndex

    report = KnowledgeIndex(*_locate(ns)).build(force=ns.force)
    for message in report.messages:
        print(message, file=sys.stderr)
    _print(report.model_dump(mode="json"))
    return 1 if report.problems else 0


def _query(ns: argparse.Namespace) -> int:
    from .retrieve import Retriever

    data_dir, chroma_url = _locate(ns)
    passages = Retriever(data_dir, chroma_url, clinic=ns.clinic).search(
        ns.text, k=ns.k, topics=ns.topic or None, conditions=ns.condition or None)
    _print([{"id": p.id, "title": p.title, "source": p.source, "text": p.text, "score": p.score}
            for p in passages])
    return 0


def _add(ns: argparse.Namespace) -> int:
    from .index import KnowledgeIndex

    report = KnowledgeIndex(*_locate(ns)).add_documents(ns.files, clinic=ns.clinic)
    _print(report.model_dump(mode="json"))
    return 0


def _eval(ns: argparse.Namespace) -> int:
    from .evaluate import RECALL_GOAL, evaluate
    from .retrieve import Retriever

    data_dir, chroma_url = _locate(ns)
    report = evaluate(Retriever(data_dir, chroma_url), k=ns.k)
    _print(report.model_dump(mode="json"))
    return 0 if report.recall >= RECALL_GOAL else 1


def run(ns: argparse.Namespace) -> int:
    """Dispatch ``attune kb ...``; user-facing errors become a message and exit code."""
    try:
        return ns.kb_handler(ns)
    except AttuneError as exc:
        print(f"attune kb: {exc}", file=sys.stderr)
        return exc.exit_code


def register(subparsers: Any) -> argparse.ArgumentParser:
    """Add ``kb`` (build, query, add, eval) to the main CLI's subparsers."""
    kb = subparsers.add_parser("kb", help="the cited guidance knowledge base")
    sub = kb.add_subparsers(dest="kb_command", required=True)

    p = sub.add_parser("build", help="index the guidance corpus (no-op when unchanged)")
    p.add_argument("--force", action="store_true", help="rebuild even if the corpus is unchanged")
    p.set_defaults(kb_handler=_build)

    p = sub.add_parser("query", help="print the passages closest to TEXT as JSON")
    p.add_argument("text", metavar="TEXT")
    p.add_argument("-k", type=int, default=3, help="number of passages (default 3)")
    p.add_argument("--topic", action="append", help="only passages with this topic (repeatable)")
    p.add_argument("--condition", action="append", help="only passages for this condition (repeatable)")
    p.add_argument("--clinic", default="default", help="also search this clinic's documents")
    p.set_defaults(kb_handler=_query)

    p = sub.add_parser("add", help="add clinician documents (.md with front matter, or .txt)")
    p.add_argument("files", nargs="+", type=Path, metavar="FILE")
    p.add_argument("--clinic", default="default")
    p.set_defaults(kb_handler=_add)

    p = sub.add_parser("eval", help="recall@k over the built-in question set")
    p.add_argument("-k", type=int, default=3)
    p.set_defaults(kb_handler=_eval)

    kb.set_defaults(func=run, handler=run)
    return kb


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry point: ``python -m attune.knowledge.cli kb query ...``."""
    parser = argparse.ArgumentParser(prog="attune")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--chroma-url", default=None)
    register(parser.add_subparsers(dest="command", required=True))
    ns = parser.parse_args(argv)
    return ns.func(ns)


if __name__ == "__main__":
    sys.exit(main())
