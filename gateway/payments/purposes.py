"""What a payment pays for: each purpose says what is payable and what happens when its payment settles.

Each purpose's handler is listed in gateway.composition and reached through `Services.purposes`; the payments flow
never names bookings or ticket orders itself.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from documents.payment import Payment, PaymentPurpose
from gateway.security.callers import Caller
from gateway.services import Services


@dataclass(frozen=True)
class PayableTarget:
    """What the payer owes for a target, from the target's own frozen price, never from the client."""

    owner_id: str
    amount_minor: int
    currency: str
    description: str
    # Who earns the money (the listing's agent, the event's host), and the platform's commission out of it.
    payee_id: str
    platform_fee_minor: int


class TargetUnavailable(Exception):
    """The target can no longer take the money (its hold lapsed, it was cancelled): the payment must be returned."""


class PurposeHandler(ABC):
    @abstractmethod
    async def payable(self, services: Services, caller: Caller, target_id: str) -> PayableTarget:
        """The amount the caller owes for `target_id`; a Problem when it is not theirs or not payable now."""

    @abstractmethod
    async def owner_of(self, target_id: str) -> str | None:
        """Who pays for `target_id` (the guest, the buyer); None when there is no such target."""

    @abstractmethod
    async def still_payable(self, services: Services, payment: Payment) -> bool:
        """Whether an open payment's target still waits for it (False: the payment may be expired)."""

    @abstractmethod
    async def on_succeeded(self, services: Services, payment: Payment) -> None:
        """Fulfil the target; raise TargetUnavailable when it can no longer be fulfilled. Called once per payment."""

    async def on_closed_unpaid(self, services: Services, payment: Payment) -> None:
        """The payment failed, was cancelled or expired; the target stays payable by another payment."""

    async def on_refunded(self, services: Services, payment: Payment) -> None:
        """The vendor returned (part of) the money."""


def purpose_handler(services: Services, purpose: PaymentPurpose) -> PurposeHandler:
    try:
        return services.purposes[purpose]
    except KeyError:
        raise LookupError(f"no handler registered for payments of purpose {purpose}") from None
