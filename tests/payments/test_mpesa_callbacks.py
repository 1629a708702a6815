"""M-Pesa callbacks that do not add up: garbled amounts, another phone, a receipt used twice, forged first callbacks.

Each is posted straight to the callback route, with the right path token, as a forger who learnt it (or a garbling
middlebox) would; none may settle a payment on its own word, and none may shadow the genuine callback that follows.
"""

import asyncio
import copy
from typing import Any

import orjson
import pytest
from aiohttp.test_utils import TestClient

from documents.payment_event import PaymentEvent
from gateway.state import SERVICES
from gateway.vendors.payments import SandboxVendors
from providers.emulators.daraja_state import callback_payload
from tests.payments.conftest import held_booking, pay, stored_payment
from tests.payments.test_mpesa import ACCEPTED, callback_path, settle_push

# Safaricom's "no callback" sandbox number: the push settles in the emulator, and only an STK query tells.
SILENT_PHONE = "254700000005"


def genuine_callback(sandbox: SandboxVendors, reference: str) -> dict[str, Any]:
    """The success callback Safaricom would send for this push, with the receipt it would carry."""
    return callback_payload(sandbox.daraja.pushes[reference])


def with_item(callback: dict[str, Any], name: str, value: Any = None, *, drop: bool = False) -> dict[str, Any]:
    changed = copy.deepcopy(callback)
    items = changed["Body"]["stkCallback"]["CallbackMetadata"]["Item"]
    kept = [item for item in items if item["Name"] != name]
    changed["Body"]["stkCallback"]["CallbackMetadata"]["Item"] = kept if drop else [*kept, {"Name": name, "Value": value}]
    return changed


async def post_callback(client: TestClient, body: dict[str, Any] | bytes) -> None:
    data = body if isinstance(body, bytes) else orjson.dumps(body)
    answer = await client.post(callback_path(client), data=data, headers={"Content-Type": "application/json"})
    assert answer.status == 200, await answer.text()
    assert await answer.json() == ACCEPTED
    await client.app[SERVICES].payments.finish_background_work()


async def pending_payment(client: TestClient, phone: str = "0712345678") -> tuple[dict[str, Any], str]:
    payment = await pay(client, await held_booking(client), phone=phone)
    return payment, (await stored_payment(payment["id"])).provider_reference or ""


GARBLED_AMOUNTS = [
    pytest.param(None, id="missing"),
    pytest.param("NaN", id="NaN"),
    pytest.param("Infinity", id="Infinity"),
    pytest.param(1e30, id="1e30"),
    pytest.param("110000", id="text"),
    pytest.param(1100.5, id="fraction"),
    pytest.param(10**18, id="past-mpesa-limit"),
]


@pytest.mark.parametrize("amount", GARBLED_AMOUNTS)
async def test_a_success_without_a_usable_amount_is_never_settled_on_its_word(
    client: TestClient, sandbox: SandboxVendors, amount: Any
) -> None:
    payment, reference = await pending_payment(client)
    genuine = genuine_callback(sandbox, reference)
    garbled = with_item(genuine, "Amount", amount, drop=amount is None)

    # The payer has not answered the prompt: Daraja's STK query says it is still being processed.
    await post_callback(client, garbled)

    assert (await stored_payment(payment["id"])).status == "pending"
    statement = await PaymentEvent.find_one({"source": "webhook"})
    assert statement is not None and statement.doubt in ("amount_missing", "amount_garbled")
    assert await PaymentEvent.find({"source": "status_query"}).count() == 1
    # The garbled one does not shadow the genuine callback that follows.
    await settle_push(client, sandbox, payment)
    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded" and settled.receipt


async def test_a_garbled_amount_settles_when_daraja_confirms_the_push(client: TestClient, sandbox: SandboxVendors) -> None:
    payment, reference = await pending_payment(client, SILENT_PHONE)
    sandbox.daraja.settle_now(reference)

    await post_callback(client, with_item(genuine_callback(sandbox, reference), "Amount", "NaN"))

    settled = await stored_payment(payment["id"])
    assert settled.status == "succeeded" and settled.flagged is None
    assert [event.result for event in await PaymentEvent.find({"source": "webhook"}).to_list()] == [
        "doubted_amount_garbled_vendor_says_succeeded"
    ]


async def test_a_forged_first_callback_cannot_block_the_genuine_one(client: TestClient, sandbox: SandboxVendors) -> None:
    payment, reference = await pending_payment(client)
    genuine = genuine_callback(sandbox, reference)
    # Same push, same result code, a wrong amount: flagged, not settled, and under today's dedupe key it would have
    # been the only statement "ResultCode 0" this push could ever have.
    await post_callback(client, with_item(genuine, "Amount", 1.0))
    assert (flagged := await stored_payment(payment["id"])).status == "pending" and flagged.flagged.code == "amount_mismatch"

    await post_callback(client, genuine)

    assert (await stored_payment(payment["id"])).status == "succeeded"


async def test_a_duplicate_genuine_callback_is_stored_once_and_changes_nothing(client: TestClient, sandbox: SandboxVendors) -> None:
    payment, reference = await pending_payment(client)
    genuine = orjson.dumps(genuine_callback(sandbox, reference))
    await post_callback(client, genuine)
    settled = await stored_payment(payment["id"])

    await asyncio.gather(*(post_callback(client, genuine) for _ in range(3)))

    assert await PaymentEvent.find({"source": "webhook"}).count() == 1
    assert (await stored_payment(payment["id"])).updated_at == settled.updated_at


async def test_one_receipt_settles_one_payment(client: TestClient, sandbox: SandboxVendors) -> None:
    first, first_reference = await pending_payment(client)
    second, second_reference = await pending_payment(client)
    await settle_push(client, sandbox, first)
    used = (await stored_payment(first["id"])).receipt
    assert used

    # The second push's callback, claiming the receipt the first one was paid with.
    await post_callback(client, with_item(genuine_callback(sandbox, second_reference), "MpesaReceiptNumber", used))

    assert (await stored_payment(second["id"])).status == "pending"
    assert (await stored_payment(first["id"])).receipt == used


async def test_two_callbacks_racing_with_one_receipt_settle_one_payment(client: TestClient, sandbox: SandboxVendors) -> None:
    payments = [await pending_payment(client) for _ in range(2)]
    shared = "QAB1C2D3E4"

    await asyncio.gather(*(
        post_callback(client, with_item(genuine_callback(sandbox, reference), "MpesaReceiptNumber", shared))
        for _, reference in payments
    ))  # fmt: skip

    statuses = sorted([(await stored_payment(payment["id"])).status for payment, _ in payments])
    assert statuses == ["pending", "succeeded"]


async def test_a_callback_from_another_phone_is_settled_only_if_daraja_confirms(client: TestClient, sandbox: SandboxVendors) -> None:
    unanswered, unanswered_reference = await pending_payment(client)
    paid, paid_reference = await pending_payment(client, SILENT_PHONE)
    sandbox.daraja.settle_now(paid_reference)

    for reference in (unanswered_reference, paid_reference):
        await post_callback(client, with_item(genuine_callback(sandbox, reference), "PhoneNumber", 254711999999))

    assert (await stored_payment(unanswered["id"])).status == "pending"
    confirmed = await stored_payment(paid["id"])
    # Daraja's STK query confirms the push was paid; the callback's receipt is not taken on its word.
    assert confirmed.status == "succeeded" and confirmed.receipt is None
    assert (await stored_payment(unanswered["id"])).payer_phone == "254712345678"


HOSTILE_BODIES = [
    pytest.param(b'{"Body": {"stkCallback": {"MerchantRequestID": "1", "CheckoutRequestID": "ws_CO_1", '
                 b'"ResultCode": 18446744073709551615, "ResultDesc": "x"}}}', id="u64-result-code"),
    pytest.param(b'{"Body": {"stkCallback": {"MerchantRequestID": "1", "CheckoutRequestID": "ws_CO_1", "ResultCode": 0, '
                 b'"ResultDesc": "x", "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": {"$gt": 1}}]}}}}',
                 id="operator-amount"),
    pytest.param(b'{"Body": {"stkCallback": {"MerchantRequestID": "1", "CheckoutRequestID": "ws_CO_1", "ResultCode": 0, '
                 b'"ResultDesc": "x", "CallbackMetadata": {"Item": [{"Name": "Amount", "Value": 18446744073709551615}]}}}}',
                 id="u64-amount"),
    pytest.param(b'{"Body": ' * 200 + b"1" + b"}" * 200, id="deep"),
    pytest.param(b"[1e400]", id="infinite-literal"),
    pytest.param(b"\xff\xfe", id="not-utf8"),
]  # fmt: skip


@pytest.mark.parametrize("body", HOSTILE_BODIES)
async def test_no_callback_body_gets_a_server_error(client: TestClient, body: bytes) -> None:
    answer = await client.post(callback_path(client), data=body, headers={"Content-Type": "application/json"})
    await client.app[SERVICES].payments.finish_background_work()
    # Refused as no STK callback (400), or stored for a payment nobody has (200): never a server error.
    assert answer.status in (200, 400), await answer.text()


async def test_extra_fields_are_dropped_and_an_unknown_result_is_stored_safely(client: TestClient, sandbox: SandboxVendors) -> None:
    payment, reference = await pending_payment(client)
    body = genuine_callback(sandbox, reference)
    body["$where"] = "sleep(1000)"
    body["Body"]["stkCallback"].update(ResultCode=4_000_000, Extra={"a.b": {"$ne": 1}})

    await post_callback(client, body)

    stored = await PaymentEvent.find_one({"source": "webhook"})
    assert stored is not None and stored.outcome == "unknown" and "$where" not in stored.raw
    assert (await stored_payment(payment["id"])).status == "pending"
