"""The code keeps its shape: the layering of docs/architecture.md (import-linter) and used, sorted imports (ruff)."""

import subprocess
import sys
import tomllib
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


# The packages under gateway that are edges, not domain: the realtime hub holds the Socket.IO server and its sockets.
EDGE_PACKAGES = {"gateway.realtime"}


def test_every_package_under_gateway_is_held_to_the_domain_contract_or_named_an_edge() -> None:
    # A package added later and left out of the contract would be free to import aiohttp and handlers unnoticed.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("the domain imports"))
    packages = {f"gateway.{path.parent.name}" for path in (REPO / "gateway").glob("*/__init__.py")}
    unchecked = packages - set(contract["source_modules"]) - EDGE_PACKAGES
    assert not unchecked, f"add to the domain contract in pyproject.toml, or to EDGE_PACKAGES: {sorted(unchecked)}"
