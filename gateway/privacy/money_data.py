"""Money: payments, what vendors said about them, the Paybill, the ledger and payouts. The law keeps these (tax,
anti-money-laundering), so an erasure leaves them naming only the pseudonym and scrubs contacts and names."""

from typing import Any

from bson import ObjectId

from documents.ledger_balance import LedgerBalance
from documents.ledger_entry import LedgerEntry
from documents.paybill import PaybillPayment, PaybillReference
from documents.payment import Payment
from documents.payment_event import PaymentEvent
from documents.payout import Payout
from documents.payout_destination import PayoutDestination
from gateway.ledger.accounts import host_payable, host_receivable, payouts_in_flight
from gateway.privacy.records import (
    ERASED,
    as_json,
    delete_documents,
    export_documents,
    id_or_pseudonym,
    pseudonymise_documents,
)
from gateway.privacy.registry import DataSubject, Exported, PersonalData
from gateway.services import Services


async def _payment_ids(subject: DataSubject) -> list[str]:
    cursor = Payment.get_pymongo_collection().find(
        {"user_id": {"$in": [subject.user_id, subject.pseudonym]}}, {"_id": 1}
    )
    return [str(raw["_id"]) async for raw in cursor]


async def _erase_vendor_statements(services: Services, subject: DataSubject) -> None:
    """The vendors' statements about the person's payments keep amounts and receipts; phones and names go."""
    payment_ids = await _payment_ids(subject)
    events = pseudonymise_documents(
        PaymentEvent,
        lambda s: {"payment_id": {"$in": [ObjectId(payment_id) for payment_id in payment_ids]}},
        lambda s: {"payer_phone": None},
        redacted=("raw",),
    )
    await events(services, subject)
    paybill = pseudonymise_documents(
        PaybillPayment,
        lambda s: {
            "$or": [{"payment_id": {"$in": payment_ids}}, {"msisdn": {"$in": [s.phone, (s.phone or "").lstrip("+")]}}]
        },
        lambda s: {"msisdn": ERASED, "payer_name": ERASED},
        redacted=("raw", "resolution_note"),
    )
    await paybill(services, subject)


async def _export_vendor_statements(services: Services, subject: DataSubject) -> Exported:
    payment_ids = await _payment_ids(subject)
    events = export_documents(PaymentEvent, lambda s: {"payment_id": {"$in": [ObjectId(p) for p in payment_ids]}})
    return await events(services, subject)


# The ledger accounts named after a person.
_PERSONS_ACCOUNTS = (host_payable, host_receivable, payouts_in_flight)


async def _rename_ledger_accounts(services: Services, subject: DataSubject) -> None:
    """The person's ledger accounts take the pseudonym's name, in every entry's lines and in the balances, so the
    books still balance and sum the same."""
    entries = LedgerEntry.get_pymongo_collection()
    balances = LedgerBalance.get_pymongo_collection()
    for account in _PERSONS_ACCOUNTS:
        before, after = account(subject.user_id), account(subject.pseudonym)
        await entries.update_many(
            {"lines.account": before},
            {"$set": {"lines.$[line].account": after}},
            array_filters=[{"line.account": before}],
        )
        await balances.update_many({"account": before}, {"$set": {"account": after}})
    await entries.update_many({"admin_id": subject.user_id}, {"$set": {"admin_id": subject.pseudonym}})


async def _export_ledger(services: Services, subject: DataSubject) -> Exported:
    accounts = [account(subject.user_id) for account in _PERSONS_ACCOUNTS]
    cursor = LedgerEntry.get_pymongo_collection().find({"lines.account": {"$in": accounts}})
    balances = LedgerBalance.get_pymongo_collection().find({"account": {"$in": accounts}})
    records: dict[str, Any] = {"entries": [raw async for raw in cursor], "balances": [raw async for raw in balances]}
    return Exported(as_json(records))


PAYMENTS = PersonalData(
    "payments",
    "payments made, and payments received as the payee",
    erase=pseudonymise_documents(
        Payment, id_or_pseudonym("user_id"), lambda s: {"user_id": s.pseudonym, "payer_phone": None}, redacted=("customer_message",)
    ),
    export=export_documents(Payment, lambda s: {"$or": [{"user_id": s.user_id}, {"payee_id": s.user_id}]},
                            hidden=("client_secret", "request_hash")),
)  # fmt: skip
PAYMENTS_RECEIVED = PersonalData(
    "payments_received",
    "the payee named on payments for an agent's stays or a host's tickets",
    erase=pseudonymise_documents(Payment, id_or_pseudonym("payee_id"), lambda s: {"payee_id": s.pseudonym}),
)
# Before payments: they find the person's statements through the payments.
VENDOR_STATEMENTS = PersonalData(
    "vendor_statements",
    "what M-Pesa, Stripe and PayPal said about the person's payments, and Paybill payments from their phone",
    erase=_erase_vendor_statements,
    export=_export_vendor_statements,
)
PAYBILL_REFERENCES = PersonalData(
    "paybill_references",
    "account numbers given for paying a booking or order at the Paybill",
    erase=pseudonymise_documents(PaybillReference, id_or_pseudonym("owner_id"), lambda s: {"owner_id": s.pseudonym}),
    export=export_documents(PaybillReference, lambda s: {"owner_id": s.user_id}),
)
LEDGER = PersonalData(
    "ledger", "what the platform owed and paid the host or agent", erase=_rename_ledger_accounts, export=_export_ledger
)
PAYOUTS = PersonalData(
    "payouts",
    "earnings paid out to an M-Pesa phone",
    erase=pseudonymise_documents(
        Payout, id_or_pseudonym("user_id"), lambda s: {"user_id": s.pseudonym, "phone": ERASED, "receiver": None}
    ),
    export=export_documents(Payout, lambda s: {"user_id": s.user_id}),
)
PAYOUT_DESTINATIONS = PersonalData(
    "payout_destination",
    "the M-Pesa phone earnings are paid to",
    erase=delete_documents(PayoutDestination, lambda s: {"user_id": s.user_id}),
    export=export_documents(PayoutDestination, lambda s: {"user_id": s.user_id}),
)
