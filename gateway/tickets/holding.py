"""A holder's tickets: reading them with their secret, re-issuing a leaked one, hosts revoking one; the scanner kit."""

from datetime import UTC, datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.door_pass import DoorPass
from documents.hosted_event import HostedEvent
from documents.ticket import Ticket, TicketStatus
from gateway.database import in_transaction
from gateway.hosted_events.hosting import hosted_event_for
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services
from gateway.tickets.issuing import send_ticket, ticket_secret
from gateway.tickets.problems import OrderStateProblem
from gateway.tickets.scanning import Scanner, scan_context_for
from gateway.tickets.secrets import SECRET_FORMAT


async def _ticket(ticket_id: str) -> Ticket:
    ticket = await Ticket.get(PydanticObjectId(ticket_id)) if ObjectId.is_valid(ticket_id) else None
    if ticket is None:
        raise NotFound("no such ticket")
    return ticket


async def ticket_for(caller: Caller, ticket_id: str) -> tuple[Ticket, HostedEvent]:
    """A ticket its holder, the event's host or an admin may see, with its event; 404 for anyone else."""
    ticket = await _ticket(ticket_id)
    event = await HostedEvent.get(ticket.event_id)
    if event is None or not (caller.is_admin or caller.user_id in (ticket.holder_id, event.host_id)):
        raise NotFound("no such ticket")
    return ticket, event


async def ticket_by_id(ticket_id: str) -> tuple[Ticket, HostedEvent]:
    """A ticket and its event, for a request that proved its right another way (a signed QR link)."""
    ticket = await _ticket(ticket_id)
    event = await HostedEvent.get(ticket.event_id)
    if event is None:
        raise NotFound("no such ticket")
    return ticket, event


async def list_tickets(caller: Caller, after: str | None, limit: int) -> tuple[list[Ticket], str | None]:
    return await newest_first(Ticket, {"holder_id": caller.user_id}, after, limit)


async def reissue_ticket(services: Services, caller: Caller, ticket_id: str) -> tuple[Ticket, HostedEvent]:
    """A new secret for the holder's ticket; the old QR code is revoked everywhere, scanners' kits included."""
    ticket, event = await ticket_for(caller, ticket_id)
    if ticket.status != TicketStatus.VALID:
        raise OrderStateProblem("a revoked ticket cannot be re-issued")

    async def reissue(session: AsyncClientSession) -> Ticket:
        reissued = await ticket.reissue(session)
        await DoorPass.follow(reissued, session)
        return reissued

    reissued = await in_transaction(services, reissue)
    await send_ticket(services, event, reissued)
    return reissued, event


async def revoke_ticket(services: Services, caller: Caller, ticket_id: str) -> tuple[Ticket, HostedEvent]:
    """The host (or an admin) voids a ticket for good."""
    ticket = await _ticket(ticket_id)
    event = await hosted_event_for(caller, str(ticket.event_id))

    async def revoke(session: AsyncClientSession) -> Ticket:
        revoked = await ticket.revoke(session)
        await DoorPass.follow(revoked, session)
        return revoked

    return await in_transaction(services, revoke), event


async def door_passes(tickets: list[Ticket]) -> dict[PydanticObjectId, DoorPass]:
    """The door's side of each ticket (whether its holder is inside), by ticket id."""
    found = await DoorPass.find({"_id": {"$in": [ticket.id for ticket in tickets]}}).to_list()
    return {door.id: door for door in found if door.id is not None}


async def scanner_kit(services: Services, scanner: Scanner, event_id: str) -> dict[str, Any]:
    """What a door device needs to check tickets offline: the event's public keys and its revocation list."""
    await scan_context_for(services, scanner, event_id)
    event = await HostedEvent.get(PydanticObjectId(event_id))
    if event is None:
        raise NotFound("no such event")
    revoked = Ticket.get_pymongo_collection().find(
        {"event_id": event.id, "$or": [{"status": TicketStatus.REVOKED.value}, {"secret_version": {"$gt": 1}}]},
        {"status": 1, "secret_version": 1},
    )
    return {
        "event_id": event_id,
        "secret_format": SECRET_FORMAT,
        "algorithm": "Ed25519",
        "keys": [{"kid": key.kid, "public_key": key.public_key} for key in event.keys],
        "reentry_allowed": event.reentry_allowed,
        "status": event.status.value,
        # A listed ticket admits only with a secret of `current_version`; null: it admits with none.
        "revoked": [
            {"ticket_id": str(raw["_id"]),
             "current_version": None if raw["status"] == TicketStatus.REVOKED.value else raw["secret_version"]}
            async for raw in revoked
        ],  # fmt: skip
        "generated_at": datetime.now(UTC).isoformat(),
    }


def secret_of(services: Services, event: HostedEvent, ticket: Ticket) -> str | None:
    """A revoked ticket has no secret to show."""
    return ticket_secret(services, event, ticket) if ticket.status == TicketStatus.VALID else None
