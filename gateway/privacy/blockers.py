"""What must finish before an account can be erased: an active booking, money owed either way, a payout underway."""

from dataclasses import dataclass

from documents.booking import Booking, BookingStatus
from documents.ledger_balance import LedgerBalance
from documents.payment import Payment, PaymentStatus
from documents.payout import UNSETTLED, Payout
from documents.ticket_order import OrderStatus, TicketOrder
from gateway.ledger.accounts import host_payable, host_receivable


@dataclass(frozen=True)
class Blocker:
    code: str
    detail: str


async def deletion_blockers(user_id: str) -> list[Blocker]:
    """Every reason the account cannot be erased now, or none."""
    found: list[Blocker] = []
    active = [BookingStatus.HELD.value, BookingStatus.CONFIRMED.value]
    if await Booking.find({"$or": [{"guest_id": user_id}, {"agent_id": user_id}], "status": {"$in": active}}).count():
        found.append(
            Blocker("booking_active", "a booking is held or confirmed; cancel it or wait until the stay is over")
        )
    if await TicketOrder.find({"buyer_id": user_id, "status": OrderStatus.HELD.value}).count():
        found.append(Blocker("order_held", "a ticket order is waiting for payment"))
    waiting = [PaymentStatus.CREATED.value, PaymentStatus.PENDING.value]
    if await Payment.find({"user_id": user_id, "status": {"$in": waiting}}).count():
        found.append(Blocker("payment_pending", "a payment is still in progress"))
    if await Payment.find({"user_id": user_id, "$expr": {"$gt": ["$refunds_owed_minor", "$refunded_minor"]}}).count():
        found.append(Blocker("refund_owed", "a refund to you is still on its way"))
    balances = await LedgerBalance.find(
        {"account": {"$in": [host_payable(user_id), host_receivable(user_id)]}}
    ).to_list()
    # A payable account's credit (negative) balance is what the platform owes; a receivable's debit what is owed to it.
    if any(b.balance_minor < 0 for b in balances if b.account == host_payable(user_id)):
        found.append(Blocker("earnings_owed", "earnings are still owed to you; they are paid out first"))
    if any(b.balance_minor > 0 for b in balances if b.account == host_receivable(user_id)):
        found.append(Blocker("money_owed", "you owe the platform a refund's share"))
    if await Payout.find({"user_id": user_id, "status": {"$in": [status.value for status in UNSETTLED]}}).count():
        found.append(Blocker("payout_pending", "a payout to your M-Pesa is underway"))
    return found
