"""docs/events.md stays true: its tables of server events and of client requests list exactly what the code has."""

import re

from gateway.events.catalogue import DOMAIN_EVENTS
from gateway.realtime.context import DRAINING_EVENT
from gateway.realtime.hub import EXPIRED_EVENT, RECOVERY_EVENT, REVOKED_EVENT
from handlers.realtime import RealtimeNamespace
from tests.conftest import REPO

# The namespace's lifecycle handlers: Socket.IO's own connect and disconnect, not requests.
_LIFECYCLE = {"connect", "disconnect"}


def _handled_requests() -> set[str]:
    names = {name[3:] for name in vars(RealtimeNamespace) if name.startswith("on_")} - _LIFECYCLE
    # A handler `on_rooms_join` answers the request `rooms.join` (RealtimeNamespace.trigger_event).
    return {name.replace("_", ".", 1) for name in names}


def _documented(heading: str) -> set[str]:
    """The names in the first column of the table under `heading`."""
    section = (REPO / "docs" / "events.md").read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", section, flags=re.MULTILINE))


def test_every_client_request_is_documented_and_every_documented_one_is_handled() -> None:
    handled, documented = _handled_requests(), _documented("Client requests")
    assert handled, "no request handlers found"
    assert handled == documented, f"handled only: {handled - documented}; documented only: {documented - handled}"


def test_every_event_a_socket_can_receive_is_documented_and_every_documented_one_is_sent() -> None:
    sent = DOMAIN_EVENTS | {RECOVERY_EVENT, EXPIRED_EVENT, REVOKED_EVENT, DRAINING_EVENT}
    documented = _documented("Server events")
    assert sent == documented, f"sent only: {sent - documented}; documented only: {documented - sent}"
