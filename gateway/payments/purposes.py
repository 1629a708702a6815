"""What a payment pays for: each purpose says what is payable and what happens when its payment settles.

A purpose plugs in with `register_purpose(PaymentPurpose.X, handler)` from its own module; the payments flow
never names bookings or ticket orders itself.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

from aiohttp import web

from documents.payment import Payment, PaymentPurpose
from gateway.security.access import Caller


@dataclass(frozen=True)
class PayableTarget:
    """What the payer owes for a target, from the target's own frozen price, never from the client."""

    owner_id: str
    amount_minor: int
    currency: str
    description: str


class TargetUnavailable(Exception):
    """The target can no longer take the money (its hold lapsed, it was cancelled): the payment must be returned."""


class PurposeHandler(ABC):
    @abstractmethod
    async def payable(self, app: web.Application, caller: Caller, target_id: str) -> PayableTarget:
        """The amount the caller owes for `target_id`; a Problem when it is not theirs or not payable now."""

    @abstractmethod
    async def still_payable(self, app: web.Application, payment: Payment) -> bool:
        """Whether an open payment's target still waits for it (False: the payment may be expired)."""

    @abstractmethod
    async def on_succeeded(self, app: web.Application, payment: Payment) -> None:
        """Fulfil the target; raise TargetUnavailable when it can no longer be fulfilled. Called once per payment."""

    async def on_closed_unpaid(self, app: web.Application, payment: Payment) -> None:
        """The payment failed, was cancelled or expired; the target stays payable by another payment."""

    async def on_refunded(self, app: web.Application, payment: Payment) -> None:
        """The vendor returned (part of) the money."""


_HANDLERS: dict[PaymentPurpose, PurposeHandler] = {}


def register_purpose(purpose: PaymentPurpose, handler: PurposeHandler) -> None:
    _HANDLERS[purpose] = handler


def purpose_handler(purpose: PaymentPurpose) -> PurposeHandler:
    try:
        return _HANDLERS[purpose]
    except KeyError:
        raise LookupError(f"no handler registered for payments of purpose {purpose}") from None


def registered_purposes() -> list[PaymentPurpose]:
    return list(_HANDLERS)
