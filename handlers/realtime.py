"""Socket.IO handlers of the default namespace: connect with a token, follow rooms, refresh the token; every request acked."""

import functools
from collections.abc import Awaitable, Callable
from typing import Any, NoReturn, TypeVar

import socketio
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gateway.conversations.signals import signal_typing
from gateway.logs import get_logger
from gateway.messaging.targets import InvalidTarget, checked_target, user_of
from gateway.problems import Problem, input_prefix
from gateway.realtime.connection_guard import request_failure as failure
from gateway.realtime.hub import UNAVAILABLE, HubUnavailable, RealtimeHub, SocketRefused
from gateway.realtime.rooms import refusal_to_follow
from gateway.security.callers import Caller
from gateway.security.tokens import AccessClaims, TokenExpired, TokenInvalid
from gateway.services import Services
from gateway.state import SERVICES
from gateway.tickets.scanning import Scanner, SocketTicketScan, scan_from_socket

log = get_logger("lango.handlers.realtime")
RequestT = TypeVar("RequestT", bound=BaseModel)
Ack = dict[str, Any]


class RequestRefused(Exception):
    """A client request that cannot be served; `code` is stable, `message` is for humans."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConnectAuth(BaseModel):
    # Clients' SDKs add their own fields to the handshake; only these two are read.
    model_config = ConfigDict(extra="ignore", frozen=True)

    token: str | None = None
    last_event_id: int | None = Field(None, ge=0)


class RefreshRequest(_Request):
    token: str


class JoinRequest(_Request):
    room: str
    last_event_id: int | None = Field(None, ge=0)


class LeaveRequest(_Request):
    room: str


class TypingRequest(_Request):
    conversation_id: str = Field(pattern=r"^[0-9a-f]{24}$")
    typing: bool = True


def acknowledged(
    model: type[RequestT],
) -> Callable[[Callable[[Any, str, RequestT], Awaitable[Ack]]], Callable[[Any, str, Any], Awaitable[Ack]]]:
    """Validate the payload into `model`; whatever happens, the client's ack gets `{ok, ...}` or `{ok: false, error}`."""

    def decorate(handler: Callable[[Any, str, RequestT], Awaitable[Ack]]) -> Callable[[Any, str, Any], Awaitable[Ack]]:
        @functools.wraps(handler)
        async def handle(namespace: Any, sid: str, payload: Any = None) -> Ack:
            try:
                # A request sent as the socket connects waits for its opening to admit it.
                if not await namespace.hub.admitted(sid):
                    return failure("not_connected", "the socket is not connected")
                request = model.model_validate(payload if payload is not None else {})
                return {"ok": True, **await handler(namespace, sid, request)}
            except ValidationError as error:
                return failure("invalid_request", "; ".join(_describe(issue) for issue in error.errors()))
            except (RequestRefused, SocketRefused) as refused:
                return failure(refused.code, refused.message)
            except HubUnavailable:
                return failure("unavailable", UNAVAILABLE)
            except Exception:
                log.exception("socket request failed", handler=handler.__name__)
                return failure("internal_error", "the request failed on the server")

        return handle

    return decorate


def _describe(issue: Any) -> str:
    # A location can name a field the client made up: each part is cut like any other echo of input.
    location = ".".join(input_prefix(str(part)) for part in issue["loc"]) or "payload"
    return f"{location}: {issue['msg']}"


class RealtimeNamespace(socketio.AsyncNamespace):
    """Events named with dots (`rooms.join`) are handled by `on_rooms_join`."""

    def __init__(self, app: web.Application) -> None:
        super().__init__("/")
        # Registered as the application is built; its Services exist once it starts.
        self._app = app

    @property
    def _services(self) -> Services:
        return self._app[SERVICES]

    @property
    def hub(self) -> RealtimeHub:
        hub = self._services.hub
        if hub is None:
            raise HubUnavailable("this process holds no sockets")
        return hub

    async def trigger_event(self, event: str, *args: Any) -> Any:
        handler_name = "on_" + event.replace(".", "_")
        if not hasattr(self, handler_name):
            return failure("unknown_event", f"no such request: {input_prefix(event)}")
        return await super().trigger_event(handler_name[3:], *args)

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        try:
            handshake = ConnectAuth.model_validate(auth if isinstance(auth, dict) else {})
        except ValidationError:
            _refuse("invalid_auth", "auth must be {token, last_event_id}")
        if not handshake.token:
            _refuse("missing_token", "send the access token in the connect auth payload")
        claims = await self._verify(handshake.token, refuse=_refuse)
        try:
            self.hub.admit(sid, claims, handshake.last_event_id)
        except SocketRefused as refused:
            _refuse(refused.code, refused.message)
        except HubUnavailable:
            _refuse("unavailable", UNAVAILABLE)

    async def on_disconnect(self, sid: str, reason: str) -> None:
        self.hub.disconnect(sid)

    @acknowledged(RefreshRequest)
    async def on_auth_refresh(self, sid: str, request: RefreshRequest) -> Ack:
        claims = await self._verify(request.token, refuse=_refuse_request)
        await self.hub.renew(sid, claims)
        return {"expires_at": claims.expires_at.isoformat()}

    @acknowledged(JoinRequest)
    async def on_rooms_join(self, sid: str, request: JoinRequest) -> Ack:
        room = _room(request.room)
        await self._authorise(sid, room)
        resumed = await self.hub.join(sid, room, request.last_event_id)
        return {"room": room, "recovered": resumed.recovered, "replayed": resumed.replayed,
                "last_event_id": resumed.last_event_id}  # fmt: skip

    @acknowledged(SocketTicketScan)
    async def on_ticket_scan(self, sid: str, request: SocketTicketScan) -> Ack:
        caller = self._caller(sid)
        try:
            rooms = self.hub.delivery.sockets[sid].rooms
            return await scan_from_socket(self._services, Scanner(caller.user_id, caller.roles), rooms, request)
        except Problem as problem:
            raise RequestRefused(problem.slug.replace("-", "_"), str(problem)) from None

    @acknowledged(TypingRequest)
    async def on_conversation_typing(self, sid: str, request: TypingRequest) -> Ack:
        caller = self._caller(sid)
        try:
            reached = await signal_typing(self._services, caller, request.conversation_id, request.typing)
        except Problem as problem:
            raise RequestRefused(problem.slug.replace("-", "_"), str(problem)) from None
        return {"conversation_id": request.conversation_id, "online": reached}

    @acknowledged(LeaveRequest)
    async def on_rooms_leave(self, sid: str, request: LeaveRequest) -> Ack:
        room = _room(request.room)
        if user_of(room) is not None:
            raise RequestRefused("forbidden", "a socket always follows its own user room")
        self.hub.leave(sid, room)
        return {"room": room}

    async def _verify(self, token: str, refuse: Callable[[str, str], NoReturn]) -> AccessClaims:
        try:
            return await self._services.tokens.verify_access_beside_loop(token)
        except TokenExpired:
            refuse("token_expired", "the access token has expired: refresh it and reconnect")
        except TokenInvalid:
            refuse("invalid_token", "the access token is not valid")

    async def _authorise(self, sid: str, room: str) -> None:
        caller = self._caller(sid)
        refusal = await refusal_to_follow(self._services, caller, room)
        if refusal is not None:
            raise RequestRefused("forbidden", refusal)

    def _caller(self, sid: str) -> Caller:
        session = self.hub.sessions.get(sid)
        if session is None:
            raise RequestRefused("not_connected", "the socket is not connected")
        return Caller(user_id=session.user_id, roles=session.roles, session_id=session.session_id)


def _room(name: str) -> str:
    try:
        return checked_target(name)
    except InvalidTarget as error:
        raise RequestRefused("invalid_room", str(error)) from None


def _refuse(code: str, message: str) -> NoReturn:
    # message is the code itself, so a client reading only err.message can act on it; data carries both.
    raise socketio.exceptions.ConnectionRefusedError(code, {"code": code, "message": message})


def _refuse_request(code: str, message: str) -> NoReturn:
    raise RequestRefused(code, message)


def install_socket_handlers(app: web.Application, sio: socketio.AsyncServer) -> None:
    sio.register_namespace(RealtimeNamespace(app))
