"""Notification routes: the caller's inbox, their notification preferences, and the phones they get pushes on."""

from typing import Annotated

from aiohttp import web
from pydantic import Field

from gateway.http_access import AUTHENTICATED
from gateway.notifications.devices import DeviceRegistration, devices_of, register_device, unregister_device
from gateway.notifications.inbox import inbox_page, mark_all_read, mark_read
from gateway.notifications.preferences import PreferencesUpdate, preferences_of, replace_preferences
from gateway.notifications.views import DeviceList, DeviceView, InboxPage, MarkedRead, PreferencesView
from gateway.request_models import RequestModel
from gateway.routing import ApiRoutes
from gateway.security.callers import Caller
from gateway.state import SERVICES

routes = ApiRoutes(tag="notifications")


class InboxQuery(RequestModel):
    cursor: Annotated[str, Field(max_length=64)] | None = None
    limit: Annotated[int, Field(ge=1, le=100)] = 20


@routes.get("/v1/me/notifications", query=InboxQuery, response=InboxPage, access=AUTHENTICATED, problems=(400, 401))
async def list_notifications(request: web.Request, caller: Caller, query: InboxQuery) -> InboxPage:
    """The caller's notifications, newest first; pass `next_cursor` back as `cursor` for the next page"""
    return await inbox_page(caller.user_id, query.cursor, query.limit)


@routes.post("/v1/me/notifications/{notification_id}/read", status=204, access=AUTHENTICATED, problems=(401, 404))
async def read_notification(request: web.Request, caller: Caller) -> None:
    """Mark one notification read"""
    await mark_read(caller.user_id, request.match_info["notification_id"])


@routes.post("/v1/me/notifications/read-all", response=MarkedRead, access=AUTHENTICATED, problems=(401,))
async def read_all_notifications(request: web.Request, caller: Caller) -> MarkedRead:
    """Mark every notification read"""
    return MarkedRead(updated=await mark_all_read(caller.user_id))


@routes.get("/v1/me/notification-preferences", response=PreferencesView, access=AUTHENTICATED, problems=(401,))
async def read_preferences(request: web.Request, caller: Caller) -> PreferencesView:
    """Language, time zone, quiet hours and the channels of each kind of notification"""
    return PreferencesView.of(await preferences_of(request.app[SERVICES], caller.user_id))


@routes.put(
    "/v1/me/notification-preferences",
    body=PreferencesUpdate,
    response=PreferencesView,
    access=AUTHENTICATED,
    problems=(400, 401, 415, 422),
    description="Security messages (sign-in and verification codes) are always sent and cannot be switched off. "
    "During quiet hours, non-urgent email, SMS and push wait until the window ends; the inbox gets them at once.",
)
async def replace_notification_preferences(
    request: web.Request, caller: Caller, body: PreferencesUpdate
) -> PreferencesView:
    """Replace the caller's notification preferences"""
    return PreferencesView.of(await replace_preferences(caller.user_id, body))


@routes.get("/v1/me/devices", response=DeviceList, access=AUTHENTICATED, problems=(401,))
async def list_devices(request: web.Request, caller: Caller) -> DeviceList:
    """The phones the caller receives push notifications on"""
    return DeviceList(items=[DeviceView.of(device) for device in await devices_of(caller.user_id)])


@routes.post(
    "/v1/me/devices",
    body=DeviceRegistration,
    response=DeviceView,
    status=201,
    access=AUTHENTICATED,
    problems=(400, 401, 415, 422),
    description="Call at every app start and whenever FCM rotates the token: registering a known token updates it.",
)
async def register(request: web.Request, caller: Caller, body: DeviceRegistration) -> DeviceView:
    """Register this phone's push token"""
    return DeviceView.of(await register_device(caller.user_id, body))


@routes.delete("/v1/me/devices/{device_id}", status=204, access=AUTHENTICATED, problems=(401, 404))
async def unregister(request: web.Request, caller: Caller) -> None:
    """Stop push notifications to one of the caller's phones (on sign-out, say)"""
    await unregister_device(caller.user_id, request.match_info["device_id"])
