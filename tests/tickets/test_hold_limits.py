"""How many orders one buyer may hold unpaid for one event, when the buyer's requests race; paid orders stop counting."""

import asyncio

from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.hosted_event import HostedEvent
from documents.ticket_order import TicketOrder
from documents.ticket_type import TicketType
from gateway.state import SERVICES
from gateway.tickets.issuing import ticket_order_paid
from tests.tickets.builders import buyer, event_on_sale, hold


async def test_racing_orders_of_one_buyer_hold_at_most_the_cap_for_an_event(client: TestClient) -> None:
    sale = await event_on_sale(client, quantity=200)
    buyer_user, headers = await buyer(client.app)

    answers = await asyncio.gather(*(hold(client, sale, headers, 10) for _ in range(8)))

    statuses = [answer.status for answer in answers]
    assert statuses.count(201) == 2 and statuses.count(409) == 6, statuses
    refused = [await answer.json() for answer in answers if answer.status == 409]
    assert {problem["type"] for problem in refused} == {"urn:lango:problem:hold-limit-reached"}
    assert await TicketOrder.find({"buyer_id": str(buyer_user.id)}).count() == 2
    ticket_type = await TicketType.get(sale.ticket_type_id)
    event = await HostedEvent.get(PydanticObjectId(sale.event_id))
    assert ticket_type is not None and ticket_type.sold == 20, "refused orders took no tickets"
    assert event is not None and event.sold == 20

    # A paid order stops counting; another event is not held back by this one's cap.
    paid = await answers[statuses.index(201)].json()
    await ticket_order_paid(client.app[SERVICES], paid["id"], f"pay-{paid['id']}")
    assert (await hold(client, sale, headers, 1)).status == 201
    other_sale = await event_on_sale(client, quantity=5)
    assert (await hold(client, other_sale, headers, 1)).status == 201
