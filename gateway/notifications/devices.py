"""The phones a user gets pushes on: registered by the app, removed by the user (or when FCM refuses a token)."""

from typing import Annotated

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field

from documents.device import Device, Platform
from gateway.notifications.problems import DeviceNotFound
from gateway.request_models import RequestModel
from providers.push import DeviceToken


class DeviceRegistration(RequestModel):
    token: DeviceToken
    platform: Platform
    app_version: Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[0-9A-Za-z.+-]+$")] | None = None


async def register_device(user_id: str, registration: DeviceRegistration) -> Device:
    return await Device.register(user_id, registration.token, registration.platform, registration.app_version)


async def devices_of(user_id: str) -> list[Device]:
    return await Device.find({"user_id": user_id}).sort("-registered_at").to_list()


async def unregister_device(user_id: str, device_id: str) -> None:
    if not ObjectId.is_valid(device_id) or not await Device.unregister(user_id, PydanticObjectId(device_id)):
        raise DeviceNotFound()
