"""docs/events.md stays true: its tables of server events and of client requests list exactly what the code has,
and the routes, settings and error codes it names exist."""

import inspect
import re

import handlers.realtime
from gateway.messaging.catalogue import MESSAGE_TYPES
from gateway.realtime.context import DRAINING_EVENT
from gateway.realtime.hub import EXPIRED_EVENT, RECOVERY_EVENT, REFUSED_EVENT, REVOKED_EVENT
from gateway.settings import Settings
from handlers import ROUTE_GROUPS
from handlers.realtime import RealtimeNamespace
from tests.conftest import REPO

# The namespace's lifecycle handlers: Socket.IO's own connect and disconnect, not requests.
_LIFECYCLE = {"connect", "disconnect"}
_PAGE = REPO / "docs" / "events.md"
_PLACEHOLDER = re.compile(r"{[^}]*}")


def _handled_requests() -> set[str]:
    names = {name[3:] for name in vars(RealtimeNamespace) if name.startswith("on_")} - _LIFECYCLE
    # A handler `on_rooms_join` answers the request `rooms.join` (RealtimeNamespace.trigger_event).
    return {name.replace("_", ".", 1) for name in names}


def _documented(heading: str) -> set[str]:
    """The names in the first column of the table under `heading`."""
    section = _PAGE.read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `([a-z_]+\.[a-z_]+)`", section, flags=re.MULTILINE))


def test_every_client_request_is_documented_and_every_documented_one_is_handled() -> None:
    handled, documented = _handled_requests(), _documented("Client requests")
    assert handled, "no request handlers found"
    assert handled == documented, f"handled only: {handled - documented}; documented only: {documented - handled}"


def test_every_event_a_socket_can_receive_is_documented_and_every_documented_one_is_sent() -> None:
    sent = MESSAGE_TYPES | {RECOVERY_EVENT, EXPIRED_EVENT, REVOKED_EVENT, REFUSED_EVENT, DRAINING_EVENT}
    documented = _documented("Server events")
    assert sent == documented, f"sent only: {sent - documented}; documented only: {documented - sent}"


def documented_request_codes() -> set[str]:
    """The error codes the page says a client request can be answered with."""
    section = _PAGE.read_text().split("## Client requests\n", 1)[1].split("\n## ", 1)[0]
    codes = section.split("Codes:", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`([a-z_]+)`", codes))


def test_every_route_the_page_names_exists() -> None:
    # A route's parameter takes any one segment: `{id}`, `{event_id}` or a value such as `scanner`.
    routes = [
        (operation.method, re.compile("[^/]+".join(re.escape(part) for part in _PLACEHOLDER.split(operation.template))))
        for group in ROUTE_GROUPS
        for operation in group.operations
    ]
    named = set(re.findall(r"`(GET|POST|PUT|PATCH|DELETE) (/[^`\s]+)`", _PAGE.read_text()))
    assert named, "the page names no route"
    missing = {(method, path) for method, path in named if not any(m == method and p.fullmatch(path) for m, p in routes)}
    assert not missing, f"no such route: {sorted(missing)}"


def test_every_setting_the_page_names_exists() -> None:
    messages = MESSAGE_TYPES | {RECOVERY_EVENT, EXPIRED_EVENT, REVOKED_EVENT, DRAINING_EVENT} | _handled_requests()
    named = {name for name in re.findall(r"`([a-z_]+\.[a-z_]+)`", _PAGE.read_text()) if name not in messages}
    sections = Settings.model_fields
    settings = {name for name in named if name.split(".")[0] in sections}
    assert "tickets.scan_context_ttl_s" in settings
    missing = {name for name in settings if name.split(".")[1] not in sections[name.split(".")[0]].annotation.model_fields}  # type: ignore[union-attr]
    assert not missing, f"no such setting: {sorted(missing)}"


def test_every_code_a_request_is_refused_with_is_documented() -> None:
    given = set(re.findall(r"(?:RequestRefused|failure)\(\s*\"([a-z_]+)\"", inspect.getsource(handlers.realtime)))
    assert given, "no refusal codes found"
    assert given <= documented_request_codes(), f"undocumented: {sorted(given - documented_request_codes())}"
