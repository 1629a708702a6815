"""Emulator of Resend's `POST /emails`: checks the key, the JSON and the fields Resend requires."""

import re
import uuid
from typing import Any

from aiohttp import web

from providers.emulators.recording import RecordingEmulator

_TAG_TEXT = re.compile(r"^[A-Za-z0-9_-]{1,256}$")


def _resend_error(status: int, name: str, message: str) -> web.Response:
    return web.json_response({"statusCode": status, "name": name, "message": message}, status=status)


class ResendEmulator(RecordingEmulator):
    def __init__(self, api_key: str = "re_test_key") -> None:
        super().__init__()
        self.api_key = api_key
        self.emails: list[dict[str, Any]] = []
        self.app.router.add_post("/emails", self._send_email)

    async def _send_email(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if not authorization.startswith("Bearer "):
            return _resend_error(401, "missing_api_key", "Missing API key in the authorization header")
        if authorization.removeprefix("Bearer ") != self.api_key:
            return _resend_error(403, "invalid_api_key", "API key is invalid")
        if request.content_type != "application/json":
            return _resend_error(422, "validation_error", "Content-Type must be application/json")
        try:
            email = await request.json()
        except ValueError:
            return _resend_error(422, "validation_error", "Invalid JSON")
        problem = _first_problem(email)
        if problem:
            return _resend_error(422, "validation_error", problem)
        email_id = str(uuid.uuid4())
        self.emails.append({"id": email_id, **email})
        return web.json_response({"id": email_id})


def _first_problem(email: Any) -> str | None:
    if not isinstance(email, dict):
        return "The request body must be a JSON object"
    for required in ("from", "to", "subject"):
        if not email.get(required):
            return f"The `{required}` field is missing."
    recipients = email["to"] if isinstance(email["to"], list) else [email["to"]]
    if len(recipients) > 50 or not all(isinstance(address, str) and "@" in address for address in recipients):
        return "Invalid `to` field."
    if not email.get("html") and not email.get("text"):
        return "Missing `html` or `text` field."
    for tag in email.get("tags", []):
        if not (_TAG_TEXT.match(str(tag.get("name", ""))) and _TAG_TEXT.match(str(tag.get("value", "")))):
            return "Tags should only contain ASCII letters, numbers, underscores, or dashes."
    return None
