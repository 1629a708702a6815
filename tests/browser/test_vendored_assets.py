"""The scanner's third-party browser code is exactly the pinned npm releases' files recorded in web/vendored.json."""

import hashlib
import json

from tests.conftest import REPO

WEB = REPO / "web"


def test_every_vendored_file_is_the_recorded_release_file() -> None:
    recorded = json.loads((WEB / "vendored.json").read_text())
    locked = json.loads((WEB / "package-lock.json").read_text())["packages"]
    declared = json.loads((WEB / "package.json").read_text())["dependencies"]

    for relative, origin in recorded.items():
        digest = hashlib.sha256((WEB / relative).read_bytes()).hexdigest()
        assert digest == origin["sha256"], f"{relative} is not the file recorded: run `make web-vendor`, then record {digest}"
        assert locked[f"node_modules/{origin['package']}"]["version"] == declared[origin["package"]]
    assert sorted(path.relative_to(WEB).as_posix() for path in (WEB / "scan" / "vendor").iterdir()) == sorted(recorded)
