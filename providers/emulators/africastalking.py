"""Emulator of Africa's Talking's `POST /version1/messaging`: key, username, form fields, per-recipient statuses."""

import re
import uuid
from typing import Any

from aiohttp import web

from providers.emulators.recording import RecordingEmulator

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_SENT = {"statusCode": 101, "status": "Success"}
_INVALID_NUMBER = {"statusCode": 403, "status": "InvalidPhoneNumber"}


class AfricasTalkingEmulator(RecordingEmulator):
    """Answers like AT: 201 with one outcome per recipient; `reject_number` makes a number fail with a status."""

    def __init__(
        self, username: str = "sandbox", api_key: str = "at-test-key", sender_ids: set[str] | None = None
    ) -> None:
        super().__init__()
        self.username = username
        self.api_key = api_key
        self.sender_ids = sender_ids
        self.messages: list[dict[str, Any]] = []
        self._rejections: dict[str, dict[str, Any]] = {}
        self.app.router.add_post("/version1/messaging", self._send_messages)

    def reject_number(self, number: str, status: str = "UserInBlacklist", status_code: int = 406) -> None:
        self._rejections[number] = {"statusCode": status_code, "status": status}

    async def _send_messages(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return web.Response(status=415, text="Content-Type must be application/x-www-form-urlencoded")
        form = await request.post()
        if request.headers.get("apiKey") != self.api_key or form.get("username") != self.username:
            return web.Response(status=401, text="The supplied authentication is invalid")
        for required in ("to", "message"):
            if not form.get(required):
                return web.Response(status=400, text=f"Request is missing required form field '{required}'")
        sender_id = form.get("from")
        if sender_id and self.sender_ids is not None and sender_id not in self.sender_ids:
            return self._answer(request, "InvalidSenderId", [])
        recipients = [self._deliver(str(number).strip(), str(form["message"])) for number in str(form["to"]).split(",")]
        sent = sum(1 for recipient in recipients if recipient["status"] == "Success")
        return self._answer(request, f"Sent to {sent}/{len(recipients)} Total Cost: KES {0.8 * sent:.4f}", recipients)

    def _deliver(self, number: str, text: str) -> dict[str, Any]:
        outcome = self._rejections.get(number) or (_SENT if _E164.match(number) else _INVALID_NUMBER)
        if outcome is not _SENT:
            return {**outcome, "number": number, "cost": "0", "messageId": "None"}
        message_id = f"ATXid_{uuid.uuid4().hex}"
        self.messages.append({"messageId": message_id, "number": number, "message": text})
        return {**outcome, "number": number, "cost": "KES 0.8000", "messageId": message_id}

    @staticmethod
    def _answer(request: web.Request, summary: str, recipients: list[dict[str, Any]]) -> web.Response:
        if "application/json" not in request.headers.get("Accept", ""):
            # AT answers XML unless asked for JSON.
            return web.Response(
                status=201,
                content_type="application/xml",
                text=f"<AfricasTalkingResponse><SMSMessageData><Message>{summary}</Message></SMSMessageData></AfricasTalkingResponse>",
            )
        return web.json_response({"SMSMessageData": {"Message": summary, "Recipients": recipients}}, status=201)
