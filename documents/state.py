"""The one step every document's state change takes: a conditional atomic update, or a conflict naming the state found."""

from enum import StrEnum
from typing import Any, ClassVar, Self

from pymongo import ReturnDocument
from pymongo.asynchronous.client_session import AsyncClientSession

from documents.clock import stored_now


class StateConflict(Exception):
    """The document was not in a state that allows this change; each kind of document names its own subclass."""

    noun: ClassVar[str] = "document"

    def __init__(self, document_id: Any, target: StrEnum | None, current: StrEnum | None) -> None:
        found = current or "nothing"
        wanted = f"cannot become {target} from {found}" if target else f"cannot change while {found}"
        super().__init__(f"{self.noun} {document_id} {wanted}")
        self.id = document_id
        self.target = target
        self.current = current


class AdvancesState:
    """Mixed into a Beanie document whose `status` moves only through the conditional update `_advance` makes."""

    state_conflict: ClassVar[type[StateConflict]]

    async def _advance(
        self,
        target: StrEnum | None,
        expected: dict[str, Any],
        changes: dict[str, Any] | None = None,
        *,
        session: AsyncClientSession | None = None,
        unset: tuple[str, ...] = (),
        increment: dict[str, int] | None = None,
    ) -> Self:
        """Apply `changes` (and move to `target`, when given) only while the document still matches `expected`;
        otherwise raise the document's conflict with the state it is in now (None once it is gone)."""
        document: Any = self
        collection = document.get_pymongo_collection()
        values = {**(changes or {})}
        if target is not None:
            values["status"] = target.value
        # Only documents that keep an update time get one stamped.
        if "updated_at" in type(document).model_fields:
            values["updated_at"] = stored_now()
        update: dict[str, Any] = {"$set": values}
        if unset:
            update["$unset"] = {name: "" for name in unset}
        if increment:
            update["$inc"] = increment
        updated = await collection.find_one_and_update(
            {"_id": document.id, **expected}, update, return_document=ReturnDocument.AFTER, session=session
        )
        if updated is None:
            found = await collection.find_one({"_id": document.id}, {"status": 1}, session=session)
            status_type = type(document).model_fields["status"].annotation
            current = status_type(found["status"]) if found else None
            raise self.state_conflict(document.id, target, current)
        return type(document).model_validate(updated)
