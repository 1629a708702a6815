"""Reserve in the ledger what payouts already on their way carry, as every payout now does as it starts: what the
host is owed stops counting it, and its Result pays it out of the reservation or returns it."""

from functools import partial

from bson import ObjectId
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.asynchronous.database import AsyncDatabase

from documents.payout import UNSETTLED, Payout
from gateway.ledger.payout_entries import is_reserved, post_payout_reserved
from gateway.settings import Settings


async def up(db: AsyncDatabase, _: Settings) -> None:
    unsettled = {"status": {"$in": [status.value for status in UNSETTLED]}}
    async for raw in db.payouts.find(unsettled, {"_id": 1}):
        async with db.client.start_session() as session:
            await session.with_transaction(partial(_reserve, raw["_id"]))


async def _reserve(payout_id: ObjectId, session: AsyncClientSession) -> None:
    # `lango migrate` binds the documents to this database before it applies migrations. A payout settled meanwhile,
    # or reserved by an earlier run that stopped half-way, is left as it is.
    payout = await Payout.get(payout_id, session=session)
    if payout is None or payout.status not in UNSETTLED or await is_reserved(session, payout):
        return
    await post_payout_reserved(session, payout)
