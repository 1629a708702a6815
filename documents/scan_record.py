"""Scans whose secret named no ticket of the event (forged, altered, another event's), with the answer they got:
the unique nonce makes a retry a replay. Every other scan is remembered by its ticket (`Ticket.scans`)."""

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document, PydanticObjectId
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from documents.clock import stored_now


class ScanResult(StrEnum):
    OK = "ok"
    ALREADY_REDEEMED = "already_redeemed"
    NOT_INSIDE = "not_inside"
    INVALID = "invalid"
    REVOKED = "revoked"
    UNPAID = "unpaid"
    WRONG_EVENT = "wrong_event"
    NOT_VALID_NOW = "not_valid_now"


class ScanDirection(StrEnum):
    ENTRY = "entry"
    EXIT = "exit"


class ScanRecord(Document):
    event_id: PydanticObjectId
    scanner_id: str
    nonce: str
    ticket_id: PydanticObjectId | None = None
    direction: ScanDirection
    gate: str
    result: ScanResult
    # The answer the device got, kept whole so a retry with the same nonce gets it byte for byte.
    answer: dict[str, Any]
    offline: bool = False
    # An offline entry the device let through for a ticket already admitted elsewhere.
    conflict: bool = False
    scanned_at: datetime
    received_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "scan_records"
        indexes = [
            IndexModel([("scanner_id", ASCENDING), ("nonce", ASCENDING)], unique=True, name="one_scan_per_nonce"),
            IndexModel([("event_id", ASCENDING), ("scanned_at", ASCENDING)], name="by_event"),
        ]
