"""Who may import whom: ``common`` is the floor, ``prompts`` reads profiles without the agent.

Checked on the source (every import statement) and in a fresh interpreter (what importing
really pulls in), so a lazy import inside a function cannot hide a circle either.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("agent", "tools", "prompts", "knowledge", "ui", "evals")


def imported_modules(folder: str) -> set[tuple[str, str]]:
    """(file, absolute module) for every import in a package folder; relative imports resolved."""
    out = set()
    for path in (ROOT / folder).rglob("*.py"):
        package = ["attune", *path.relative_to(ROOT).parent.parts]
        package[1] = folder  # the folder is the subpackage name
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                out |= {(path.name, a.name) for a in node.names}
            elif isinstance(node, ast.ImportFrom):
                base = package[: len(package) - node.level + 1] if node.level else []
                out.add((path.name, ".".join([*base, node.module] if node.module else base)))
    return out


@pytest.mark.parametrize("folder", ["prompts", "common"])
def test_no_import_of_the_agent(folder):
    bad = sorted(f"{f}: {m}" for f, m in imported_modules(folder) if m.startswith("attune.agent"))
    assert not bad


def test_common_imports_no_other_package():
    bad = sorted(f"{f}: {m}" for f, m in imported_modules("common")
                 if any(m.startswith(f"attune.{p}") for p in PACKAGES))
    assert not bad


def test_reading_a_profile_loads_nothing_of_the_agent():
    code = ("import sys; from attune.prompts import load_profile; load_profile('default'); "
            "print(sorted(m for m in sys.modules if m.startswith('attune.agent')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def _calls_on_the_store(func: ast.FunctionDef) -> list[str]:
    """Calls made on a store (``store.x(...)``, ``ctx.store.x(...)``) anywhere in a function."""
    out = []
    for node in ast.walk(func):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            owner = node.func.value
            if (isinstance(owner, ast.Name) and owner.id == "store") or \
                    (isinstance(owner, ast.Attribute) and owner.attr == "store"):
                out.append(f"line {node.lineno}: .{node.func.attr}()")
    return out


@pytest.mark.parametrize("path, builder", [("ui/patient.py", "build_patient_page"),
                                           ("ui/console.py", "build_console_page")])
def test_page_builders_call_services_not_the_store(path, builder):
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    func = next(n for n in ast.walk(tree) if isinstance(n, ast.FunctionDef) and n.name == builder)
    assert _calls_on_the_store(func) == []
    assert "write_text" not in ast.unparse(func)  # exports, erasure and saved profiles are the services' work


def test_the_turn_and_every_step_handler_are_short():
    """A turn is a short pipeline of named steps (issue 17): none of them over 60 lines."""
    import inspect

    from attune.agent import music_step, turn

    handlers = {f.__name__: f for f in turn.STEPS.values()}
    handlers.update(run_turn=turn.run_turn, _run_turn=turn._run_turn, compose_for_turn=music_step.compose_for_turn)
    long = {name: n for name, f in handlers.items() if (n := len(inspect.getsource(f).splitlines())) > 60}
    assert len(handlers) >= 10 and not long
