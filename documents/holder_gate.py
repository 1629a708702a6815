"""One document per user who holds nights or tickets: every hold's transaction writes it first, so two holds of one
user never run side by side, and each counts the holds the other made before deciding whether the user is at a cap."""

from beanie import Document
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import DuplicateKeyError


class HolderGate(Document):
    # The user's id: one gate per user.
    id: str  # type: ignore[assignment]
    holds_started: int = 0

    class Settings:
        name = "holder_gates"

    @classmethod
    async def ensure(cls, user_id: str) -> None:
        """Create the user's gate once, outside any transaction (where two first holds would both insert it)."""
        try:
            await cls.get_pymongo_collection().update_one({"_id": user_id}, {"$setOnInsert": {"holds_started": 0}}, upsert=True)
        except DuplicateKeyError:
            pass  # a concurrent first hold created it

    @classmethod
    async def pass_through(cls, user_id: str, session: AsyncClientSession) -> None:
        """Write the gate in the hold's transaction: a concurrent transaction that wrote it too meets a write
        conflict, and MongoDB runs the loser again once this one committed, when it sees this hold."""
        await cls.get_pymongo_collection().update_one({"_id": user_id}, {"$inc": {"holds_started": 1}}, session=session)
