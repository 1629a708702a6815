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


# Every domain module imported in one fresh interpreter; prints the first whose import loaded aiohttp's web server.
_IMPORT_THE_DOMAIN = """
import importlib, pkgutil, sys
for name in sys.argv[1:]:
    package = importlib.import_module(name)
    modules = [info.name for info in pkgutil.walk_packages(getattr(package, "__path__", []), name + ".")]
    for module in [name, *modules]:
        importlib.import_module(module)
        if "aiohttp.web" in sys.modules:
            print(module)
            raise SystemExit
"""


@pytest.mark.allows_blocking
def test_the_domain_loads_without_aiohttp_web() -> None:
    # import-linter allows indirect imports: it reads imports inside functions as if at the top, so it cannot tell the
    # sandbox's emulators and the gateway's realtime hub, imported only where used, from an import the domain makes.
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    contract = next(c for c in config["tool"]["importlinter"]["contracts"] if c["name"].startswith("the domain imports"))
    command = [sys.executable, "-c", _IMPORT_THE_DOMAIN, *contract["source_modules"]]
    checked = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=120)
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout == "", f"importing {checked.stdout.strip()} loads aiohttp.web"
