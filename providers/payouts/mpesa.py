"""Payouts to M-Pesa phones through Daraja B2C, the payout id as the OriginatorConversationID."""

from typing import ClassVar

from providers.errors import VendorRejected
from providers.payments.mpesa import VENDOR, MpesaProvider
from providers.payouts.base import PayoutProvider, PayoutRequest


class MpesaPayouts(PayoutProvider):
    name: ClassVar[str] = VENDOR

    def __init__(self, mpesa: MpesaProvider) -> None:
        self._mpesa = mpesa

    async def send(self, request: PayoutRequest) -> str:
        if request.currency != "KES":
            raise VendorRejected(f"M-Pesa pays KES, not {request.currency}", vendor=VENDOR)
        acknowledgement = await self._mpesa.b2c_payment(
            request.payout_id, request.destination, request.amount_minor, request.remarks
        )
        return acknowledgement.conversation_id

    async def request_status(self, payout_id: str) -> None:
        await self._mpesa.transaction_status(originator_conversation_id=payout_id)
