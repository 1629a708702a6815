"""A guest's application to host: their identity document, their payout phone, and an admin's decision."""

from datetime import datetime
from enum import StrEnum
from typing import ClassVar

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from documents.clock import stored_now
from documents.state import AdvancesState, StateConflict


class ApplicationStatus(StrEnum):
    SUBMITTED = "submitted"
    APPROVED = "approved"
    REFUSED = "refused"
    WITHDRAWN = "withdrawn"


class ApplicationStateConflict(StateConflict):
    """The application was not in a state that allows this change."""

    noun = "host application"


class HostApplication(Document, AdvancesState):
    state_conflict: ClassVar[type[StateConflict]] = ApplicationStateConflict

    user_id: str
    # A ready document (ID card, passport) of the applicant's own, through the files API.
    identity_document_id: str
    # The confirmed M-Pesa payout phone at the time of applying (2547xxxxxxxx).
    payout_phone: str
    status: ApplicationStatus = ApplicationStatus.SUBMITTED
    reason: str | None = None
    decided_by: str | None = None
    decided_at: datetime | None = None
    created_at: datetime = Field(default_factory=stored_now)
    updated_at: datetime = Field(default_factory=stored_now)

    class Settings:
        name = "host_applications"
        indexes = [
            # One application awaiting a decision per person: a second submit races into this index.
            IndexModel(
                [("user_id", ASCENDING)],
                unique=True,
                partialFilterExpression={"status": ApplicationStatus.SUBMITTED.value},
                name="one_open_application_per_user",
            ),
            IndexModel([("user_id", ASCENDING), ("_id", DESCENDING)], name="by_applicant"),
            IndexModel([("status", ASCENDING), ("_id", DESCENDING)], name="by_status"),
        ]

    async def decide(
        self, status: ApplicationStatus, admin_id: str, reason: str | None, now: datetime
    ) -> "HostApplication":
        """submitted -> approved or refused, once: a second decision or a withdrawal meanwhile is a conflict."""
        changes = {"reason": reason, "decided_by": admin_id, "decided_at": now}
        return await self._advance(status, {"status": ApplicationStatus.SUBMITTED.value}, changes)

    async def withdraw(self) -> "HostApplication":
        """submitted -> withdrawn by the applicant, unless an admin decided first."""
        return await self._advance(ApplicationStatus.WITHDRAWN, {"status": ApplicationStatus.SUBMITTED.value})

    async def retract_approval(self) -> None:
        """Remove an approval that never took effect (the applicant's erasure began before the role was granted),
        whether or not the erasure has already put its pseudonym in it."""
        await self.get_pymongo_collection().delete_one({"_id": self.id, "status": ApplicationStatus.APPROVED.value})
