"""Emulator of SendGrid's `POST /v3/mail/send`: checks the key and the personalizations/content shape."""

import uuid
from typing import Any

from aiohttp import web

from providers.emulators.recording import RecordingEmulator


def _sendgrid_error(status: int, message: str, field: str | None = None) -> web.Response:
    return web.json_response({"errors": [{"message": message, "field": field, "help": None}]}, status=status)


class SendGridEmulator(RecordingEmulator):
    def __init__(self, api_key: str = "SG.test-key") -> None:
        super().__init__()
        self.api_key = api_key
        self.mails: list[dict[str, Any]] = []
        self.app.router.add_post("/v3/mail/send", self._mail_send)

    async def _mail_send(self, request: web.Request) -> web.Response:
        if request.headers.get("Authorization") != f"Bearer {self.api_key}":
            return _sendgrid_error(401, "The provided authorization grant is invalid, expired, or revoked")
        if request.content_type != "application/json":
            return _sendgrid_error(415, "Content-Type should be application/json.")
        try:
            mail = await request.json()
        except ValueError:
            return _sendgrid_error(400, "Bad Request")
        problem = _first_problem(mail)
        if problem:
            return _sendgrid_error(400, *problem)
        message_id = uuid.uuid4().hex[:22]
        self.mails.append({"message_id": message_id, **mail})
        return web.Response(status=202, headers={"X-Message-Id": message_id})


def _first_problem(mail: Any) -> tuple[str, str] | None:
    if not isinstance(mail, dict):
        return "The request body must be a JSON object", "body"
    personalizations = mail.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        return "You must have at least one personalization.", "personalizations"
    for index, personalization in enumerate(personalizations):
        recipients = personalization.get("to") if isinstance(personalization, dict) else None
        if not recipients or not all(isinstance(to, dict) and "@" in str(to.get("email", "")) for to in recipients):
            return "Each to object must at least have an email address.", f"personalizations.{index}.to"
    sender = mail.get("from")
    if not isinstance(sender, dict) or "@" not in str(sender.get("email", "")):
        return "The from object must be provided for every email send.", "from.email"
    if not mail.get("subject") and not all(p.get("subject") for p in personalizations):
        return "The subject is required.", "subject"
    content = mail.get("content")
    if not isinstance(content, list) or not content:
        return "Unless a valid template_id is provided, the content parameter is required.", "content"
    for index, part in enumerate(content):
        if not isinstance(part, dict) or not part.get("type") or not part.get("value"):
            return "The content value must be a string at least one character in length.", f"content.{index}.value"
    types = [part["type"] for part in content]
    if "text/plain" in types and types[0] != "text/plain":
        return "If present, text/plain content must be first, followed by text/html.", "content.0.type"
    categories = mail.get("categories", [])
    if len(categories) > 10 or not all(isinstance(c, str) and 0 < len(c) <= 255 for c in categories):
        return "Categories must be at most 10 strings of up to 255 characters.", "categories"
    return None
