"""The code keeps its shape: the layering of docs/architecture.md (import-linter) and used, sorted imports (ruff)."""

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


@pytest.mark.allows_blocking
@pytest.mark.parametrize(
    "command",
    [
        # No cache: the contracts are read from today's code, not a graph a previous run left behind.
        [str(BIN / "lint-imports"), "--no-cache"],
        [str(BIN / "ruff"), "check", "--no-cache", "."],
    ],
    ids=["layering", "imports"],
)
def test_the_code_keeps_its_contracts(command: list[str]) -> None:
    checked = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stdout + checked.stderr
