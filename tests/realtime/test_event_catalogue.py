"""docs/events.md stays true: every request a socket can send is in its table of client requests, and nothing else."""

import re

from handlers.realtime import RealtimeNamespace
from tests.conftest import REPO

# The namespace's lifecycle handlers: Socket.IO's own connect and disconnect, not requests.
_LIFECYCLE = {"connect", "disconnect"}


def _handled_requests() -> set[str]:
    names = {name[3:] for name in vars(RealtimeNamespace) if name.startswith("on_")} - _LIFECYCLE
    # A handler `on_rooms_join` answers the request `rooms.join` (RealtimeNamespace.trigger_event).
    return {name.replace("_", ".", 1) for name in names}


def _documented_requests() -> set[str]:
    text = (REPO / "docs" / "events.md").read_text()
    table = text.split("## Client requests", 1)[1].split("\n\n##", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", table, flags=re.MULTILINE))


def test_every_client_request_is_documented_and_every_documented_one_is_handled() -> None:
    handled, documented = _handled_requests(), _documented_requests()
    assert handled, "no request handlers found"
    assert handled == documented, f"handled only: {handled - documented}; documented only: {documented - handled}"
