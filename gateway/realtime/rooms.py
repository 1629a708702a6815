"""Which rooms a socket may follow besides its own user room: a property's (its agent), an event's scanners' (its
door staff and host); admins follow any."""

from gateway.messaging.targets import user_of
from gateway.properties.listings import agent_owns_listing
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.scanning import Scanner, may_follow_scanners


async def refusal_to_follow(services: Services, caller: Caller, room: str) -> str | None:
    """Why the signed-in user may not follow `room` (a checked room name); None when they may."""
    if user_of(room) is not None:
        return None if user_of(room) == caller.user_id else "only your own user room"
    if room.startswith("property:"):
        allowed = caller.is_admin or (
            "agent" in caller.roles and await agent_owns_listing(caller.user_id, room.removeprefix("property:"))
        )
        return None if allowed else "only the property's agent follows its room"
    if room.startswith("event:"):
        allowed = await may_follow_scanners(services, Scanner(caller.user_id, caller.roles), room.split(":")[1])
        return None if allowed else "only the event's door staff and host follow its scanners room"
    return "this room is not joined by request"
