"""Tickets: orders bought and the names on them, tickets held, their scans at the door, events hosted, door work."""

from documents.door_pass import DoorPass
from documents.hosted_event import HostedEvent
from documents.scan_record import ScanRecord
from documents.ticket import Ticket
from documents.ticket_order import TicketOrder
from gateway.privacy.records import ERASED, as_json, export_documents, id_or_pseudonym, pseudonymise_documents
from gateway.privacy.registry import DataSubject, Exported, PersonalData
from gateway.services import Services
from gateway.tickets.holders import forget_holders


async def _ticket_ids(subject: DataSubject) -> list[object]:
    cursor = Ticket.get_pymongo_collection().find(
        {"holder_id": {"$in": [subject.user_id, subject.pseudonym]}}, {"_id": 1}
    )
    return [raw["_id"] async for raw in cursor]


async def _erase_scans(services: Services, subject: DataSubject) -> None:
    """Scans of the person's tickets keep their result (the door's counts) without the answer's name; scans the
    person made as door staff name the pseudonym."""
    tickets = await _ticket_ids(subject)
    of_tickets = pseudonymise_documents(
        ScanRecord, lambda s: {"ticket_id": {"$in": tickets}}, lambda s: {}, redacted=("answer",)
    )
    await of_tickets(services, subject)
    by_scanner = pseudonymise_documents(
        ScanRecord, id_or_pseudonym("scanner_id"), lambda s: {"scanner_id": s.pseudonym}, redacted=("answer",)
    )
    await by_scanner(services, subject)
    marks = pseudonymise_documents(
        DoorPass, lambda s: {"scans.key": {"$regex": f"^{s.user_id}:"}}, lambda s: {}, redacted=("scans",)
    )
    await marks(services, subject)


async def _export_scans(services: Services, subject: DataSubject) -> Exported:
    """Each ticket's door pass (admitted when, at which gate, the scans it answered), and scans made or refused."""
    tickets = await _ticket_ids(subject)
    passes = DoorPass.get_pymongo_collection().find({"_id": {"$in": tickets}})
    records = ScanRecord.get_pymongo_collection().find(
        {"$or": [{"ticket_id": {"$in": tickets}}, {"scanner_id": subject.user_id}]}, {"answer": 0}
    )
    return Exported(
        {"door_passes": [as_json(raw) async for raw in passes], "scan_records": [as_json(raw) async for raw in records]}
    )


async def _erase_tickets(services: Services, subject: DataSubject) -> None:
    """Tickets stay (the door's counts, the order's record) under the pseudonym, without the holder's name, which
    also leaves the check-in list in Redis."""
    held = await Ticket.find({"holder_id": subject.user_id}).to_list()
    await forget_holders(services.redis, services.settings.redis, held)
    rename = pseudonymise_documents(
        Ticket, id_or_pseudonym("holder_id"), lambda s: {"holder_id": s.pseudonym, "holder_name": ERASED}
    )
    await rename(services, subject)


async def _erase_event_roles(services: Services, subject: DataSubject) -> None:
    events = HostedEvent.get_pymongo_collection()
    await events.update_many({"host_id": subject.user_id}, {"$set": {"host_id": subject.pseudonym}})
    await events.update_many({"scanner_ids": subject.user_id}, {"$pull": {"scanner_ids": subject.user_id}})


# Orders are the sale's record (tax): kept, naming the pseudonym, the holder's name gone.
TICKET_ORDERS = PersonalData(
    "ticket_orders",
    "ticket orders bought, with the holder name given, and orders for a host's events",
    erase=pseudonymise_documents(TicketOrder, id_or_pseudonym("buyer_id"), lambda s: {"buyer_id": s.pseudonym, "holder_name": ERASED}),
    export=export_documents(TicketOrder, lambda s: {"$or": [{"buyer_id": s.user_id}, {"host_id": s.user_id}]},
                            hidden=("request_hash",)),
)  # fmt: skip
TICKET_ORDERS_HOSTED = PersonalData(
    "ticket_orders_hosted",
    "the host named on orders for their events",
    erase=pseudonymise_documents(TicketOrder, id_or_pseudonym("host_id"), lambda s: {"host_id": s.pseudonym}),
)
TICKETS = PersonalData(
    "tickets",
    "tickets held, with the holder name",
    erase=_erase_tickets,
    export=export_documents(Ticket, lambda s: {"holder_id": s.user_id}),
)
# Before tickets are pseudonymised would not matter: scans find tickets by id or pseudonym.
SCANS = PersonalData("scans", "door scans of the person's tickets, and scans they made as door staff", erase=_erase_scans,
                     export=_export_scans)  # fmt: skip
HOSTED_EVENTS = PersonalData(
    "hosted_events",
    "events hosted, and door duty at events",
    erase=_erase_event_roles,
    export=export_documents(HostedEvent, lambda s: {"$or": [{"host_id": s.user_id}, {"scanner_ids": s.user_id}]},
                            hidden=("keys",)),
)  # fmt: skip
