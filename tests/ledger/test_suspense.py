"""Paybill money that matches nothing, in the ledger: posted to suspense once when it is held, out of suspense once
when an admin assigns it or Daraja reverses it, however the confirmations, the admins' clicks and the Results race."""

import asyncio

import orjson
from aiohttp.test_utils import TestClient

from documents.booking import Booking
from documents.ledger_entry import LedgerEntry
from documents.paybill import PaybillPayment
from gateway.ledger.accounts import PLATFORM_REVENUE, SUSPENSE, cash, host_payable
from gateway.vendors.payments import SandboxVendors
from providers.emulators import DarajaSandbox, pay_bill
from tests.ledger.books import balance, ledger_problems
from tests.payments.conftest import held_booking
from tests.properties.builders import signed_in

PAYER = "254712345678"
MPESA = cash("mpesa")


def daraja(sandbox: SandboxVendors) -> DarajaSandbox:
    assert sandbox.daraja is not None
    return sandbox.daraja


async def suspense_entries() -> list[str]:
    return [entry.key for entry in await LedgerEntry.find({"lines.account": SUSPENSE}).sort("_id").to_list()]


async def test_unmatched_money_is_posted_to_suspense_once_and_assigned_out_of_it_once(
    client: TestClient, sandbox: SandboxVendors
) -> None:
    booking = await held_booking(client)
    price = booking["paybill"]["amount_minor"]
    # Six racing confirmations of money paid to a mistyped account, and one with the right account but too little.
    typo = await pay_bill(daraja(sandbox), PAYER, price // 100, "WRONGREF", validated=False, confirmations=6)
    short = await pay_bill(
        daraja(sandbox), PAYER, price // 100 - 1, booking["paybill"]["account_number"], validated=False
    )
    assert typo.confirmation_statuses == [200] * 6 and short.confirmation_statuses == [200]
    assert await suspense_entries() == [f"paybill:{typo.trans_id}:suspense", f"paybill:{short.trans_id}:suspense"]
    assert await balance(SUSPENSE) == -(2 * price - 100) and await balance(MPESA) == 2 * price - 100

    _, admin = await signed_in(client, "admin")
    ids = {
        item["trans_id"]: item["id"]
        for item in (await (await client.get("/v1/admin/paybill/unmatched", headers=admin)).json())["items"]
    }
    assign = {"purpose": "booking", "target_id": booking["id"], "note": "the guest called"}
    # The short payment cannot pay the booking: it stays unmatched, and in suspense once.
    refused = await client.post(f"/v1/admin/paybill/{ids[short.trans_id]}/assign", headers=admin, json=assign)
    assert refused.status == 409
    assert len(await suspense_entries()) == 2

    # Two admins assign the mistyped payment at once: one settles the booking, the other is told it is taken.
    answers = await asyncio.gather(
        *(client.post(f"/v1/admin/paybill/{ids[typo.trans_id]}/assign", headers=admin, json=assign) for _ in range(2))
    )
    assert sorted(answer.status for answer in answers) == [200, 409]
    stay = await Booking.get(booking["id"])
    assert stay.status == "confirmed"
    collected = await LedgerEntry.find_one({"key": f"payment:{stay.payment_id}:collected"})
    assert {(line.account, line.amount_minor) for line in collected.lines} == {
        (SUSPENSE, price),
        (host_payable(stay.agent_id), -price),
    }
    # Cash counted once (when the money arrived); only the short payment is left in suspense.
    assert await balance(MPESA) == 2 * price - 100
    assert await balance(SUSPENSE) == -(price - 100)
    assert await balance(host_payable(stay.agent_id)) == -stay.price.host_earnings_minor
    assert await balance(PLATFORM_REVENUE) == -stay.price.platform_fee_minor
    assert await ledger_problems() == []


async def test_a_reversed_unmatched_payment_leaves_suspense_once(client: TestClient, sandbox: SandboxVendors) -> None:
    emulator = daraja(sandbox)
    stray = await pay_bill(emulator, PAYER, 700, "NOSUCHREF", validated=False)
    _, admin = await signed_in(client, "admin")
    item = (await (await client.get("/v1/admin/paybill/unmatched", headers=admin)).json())["items"][0]
    # Two admins return it at once: one reversal is asked of Daraja.
    answers = await asyncio.gather(
        *(
            client.post(f"/v1/admin/paybill/{item['id']}/refund", headers=admin, json={"note": "nobody claims it"})
            for _ in range(2)
        )
    )
    assert sorted(answer.status for answer in answers) == [200, 409]
    assert len(emulator.pending_results) == 1
    url, body = emulator.pending_results.pop()
    # Daraja's Result delivered three times at once.
    path = url.removeprefix(str(client.make_url("")))
    results = await asyncio.gather(*(client.post(path, data=orjson.dumps(body)) for _ in range(3)))
    assert [result.status for result in results] == [200] * 3
    returned = await PaybillPayment.find_one({"trans_id": stray.trans_id})
    assert returned.status == "refunded"
    assert await suspense_entries() == [f"paybill:{stray.trans_id}:suspense", f"paybill:{stray.trans_id}:reversed"]
    assert await balance(SUSPENSE) == 0 and await balance(MPESA) == 0
    assert emulator.transactions[stray.trans_id].reversed_by == returned.reversal_receipt
    assert await ledger_problems() == []
