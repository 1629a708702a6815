"""The payout provider contract: send money we owe to a destination, and ask where a payout stands."""

from abc import ABC, abstractmethod
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, PositiveInt


class PayoutRequest(BaseModel):
    """Pay `amount_minor` of `currency` to `destination` (an M-Pesa phone, an account) for one payout of ours."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    payout_id: str
    destination: str
    amount_minor: PositiveInt
    currency: str
    remarks: str


class PayoutProvider(ABC):
    """One vendor's way of paying out. Errors by remedy (providers.errors): VendorRejected means no money will move
    for this request; VendorUnavailable means it may or may not have reached the vendor, and the same request (same
    payout id, which the vendor deduplicates on) is sent again later. Outcomes arrive as the vendor's notifications,
    which its payment adapter parses."""

    name: ClassVar[str]

    @abstractmethod
    async def send(self, request: PayoutRequest) -> str:
        """Ask the vendor to pay; answers the vendor's reference for the payout."""

    @abstractmethod
    async def request_status(self, payout_id: str) -> None:
        """Ask where a payout stands; VendorRejected when the vendor has no record of it (yet)."""
