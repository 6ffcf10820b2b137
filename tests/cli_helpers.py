"""Run the real ``attune`` console script in a subprocess with an isolated data folder."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ATTUNE = str(Path(sys.executable).parent / "attune")


def run_attune(args: list[str], data_dir: Path, *, stdin: bytes | None = None, env: dict | None = None,
               timeout: float = 300) -> subprocess.CompletedProcess:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("ATTUNE_")}
    full_env.update({"ATTUNE_DATA_DIR": str(data_dir), "HF_HUB_OFFLINE": "1"})
    full_env.update(env or {})
    return subprocess.run([ATTUNE, *args], input=stdin, capture_output=True, timeout=timeout, env=full_env)
