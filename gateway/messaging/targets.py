"""Who an event is for: a user, an agent's property room, an event's door scanners, or every socket."""

import re

from pydantic import BaseModel, ConfigDict

from gateway.problems import input_prefix

_ID = r"[A-Za-z0-9_-]{1,64}"
_TARGET = re.compile(rf"^(?:user:{_ID}|property:{_ID}|event:{_ID}:scanners|broadcast)$")
_EVENT_TYPE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)+$")

BROADCAST = "broadcast"


class InvalidTarget(ValueError):
    """Not a room name the hub knows."""


def user_room(user_id: str) -> str:
    return checked_target(f"user:{user_id}")


def property_room(property_id: str) -> str:
    return checked_target(f"property:{property_id}")


def scanners_room(event_id: str) -> str:
    return checked_target(f"event:{event_id}:scanners")


def checked_target(target: str) -> str:
    if not _TARGET.match(target):
        raise InvalidTarget(f"{input_prefix(target)!r} is not a room: user:<id>, property:<id>, event:<id>:scanners or broadcast")
    return target


def checked_message_type(event_type: str) -> str:
    if not _EVENT_TYPE.match(event_type):
        raise ValueError(f"{input_prefix(event_type)!r} is not an event type such as payment.updated")
    return event_type


def user_of(target: str) -> str | None:
    """The user a `user:<id>` room belongs to; None for shared rooms."""
    return target[5:] if target.startswith("user:") else None


class Envelope(BaseModel):
    """What every pushed event looks like on the wire; `id` increases per room."""

    model_config = ConfigDict(frozen=True)

    id: int
    room: str
    type: str
    ts: str
    data: dict
