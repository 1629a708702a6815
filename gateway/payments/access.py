"""Who may see a payment and act on it: its payer; admins may read it, without the card's client secret."""

from beanie import PydanticObjectId
from bson import ObjectId

from documents.payment import Payment
from gateway.payments.views import PaymentView
from gateway.problems import NotFound
from gateway.security.callers import Caller


async def payment_for(caller: Caller, payment_id: str, *, payer_only: bool = False) -> Payment:
    """The payment if the caller paid it, or is an admin and `payer_only` is not asked; 404 for anyone else."""
    payment = await Payment.get(PydanticObjectId(payment_id)) if ObjectId.is_valid(payment_id) else None
    if payment is None or not (payment.user_id == caller.user_id or (caller.is_admin and not payer_only)):
        raise NotFound("no such payment")
    return payment


def payment_view_for(caller: Caller, payment: Payment) -> PaymentView:
    view = PaymentView.of(payment)
    # Only the payer's app confirms a card payment with the client secret (which the confirm URL carries too).
    return view if payment.user_id == caller.user_id else view.model_copy(update={"client_secret": None, "confirm_url": None})
