"""Emulator of Twilio's `POST /2010-04-01/Accounts/{sid}/Messages.json`: Basic auth, form fields, error codes."""

import re
import uuid
from email.utils import formatdate
from typing import Any

from aiohttp import BasicAuth, web

from providers.emulators.recording import RecordingEmulator

_E164 = re.compile(r"^\+[1-9]\d{6,14}$")


def _twilio_error(status: int, code: int, message: str) -> web.Response:
    return web.json_response(
        {"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )


class TwilioEmulator(RecordingEmulator):
    """Answers like Twilio: 201 with the Message resource, or its error JSON; `block_number` makes a number refuse."""

    def __init__(
        self,
        account_sid: str = "AC" + "0" * 32,
        auth_token: str = "twilio-test-token",
        owned_numbers: set[str] | None = None,
    ) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.owned_numbers = owned_numbers
        self.messages: list[dict[str, Any]] = []
        self._blocked: set[str] = set()
        self.app.router.add_post("/2010-04-01/Accounts/{sid}/Messages.json", self._create_message)

    def block_number(self, number: str) -> None:
        self._blocked.add(number)

    def _authenticated(self, request: web.Request) -> bool:
        try:
            credentials = BasicAuth.decode(request.headers.get("Authorization", ""))
        except ValueError:
            return False
        return (credentials.login, credentials.password) == (self.account_sid, self.auth_token) and request.match_info[
            "sid"
        ] == self.account_sid

    async def _create_message(self, request: web.Request) -> web.Response:
        if not self._authenticated(request):
            return _twilio_error(401, 20003, "Authenticate")
        if request.content_type != "application/x-www-form-urlencoded":
            return _twilio_error(400, 20001, "Content-Type must be application/x-www-form-urlencoded")
        form = await request.post()
        to, body = str(form.get("To", "")), str(form.get("Body", ""))
        sender, service = form.get("From"), form.get("MessagingServiceSid")
        if not _E164.match(to):
            return _twilio_error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not body:
            return _twilio_error(400, 21602, "Message body is required.")
        if not sender and not service:
            return _twilio_error(
                400, 21603, "A 'From' or 'MessagingServiceSid' parameter is required to send a message."
            )
        if sender and self.owned_numbers is not None and sender not in self.owned_numbers:
            return _twilio_error(
                400,
                21606,
                f"The From phone number {sender} is not a valid, SMS-capable inbound phone number for your account.",
            )
        if to in self._blocked:
            return _twilio_error(400, 21610, "Attempt to send to unsubscribed recipient")
        sid = "SM" + uuid.uuid4().hex
        message = {
            "sid": sid,
            "account_sid": self.account_sid,
            "to": to,
            "from": sender,
            "messaging_service_sid": service,
            "body": body,
            "status": "queued" if sender else "accepted",
            "num_segments": "1",
            "direction": "outbound-api",
            "date_created": formatdate(usegmt=True),
            "error_code": None,
            "error_message": None,
            "uri": f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}.json",
        }
        self.messages.append(message)
        return web.json_response(message, status=201)
