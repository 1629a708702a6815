"""Emulator of FCM HTTP v1 and Google's OAuth token endpoint: JWT-bearer grant, Bearer sends, real error JSON."""

import secrets
import uuid
from collections.abc import Callable
from typing import Any

import jwt
from aiohttp import web

from providers.emulators.recording import RecordingEmulator

JWT_BEARER_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
TOKEN_PATH = "/token"
# google-auth signs every assertion for Google's endpoint, whatever the key's token_uri says; Google checks it.
GOOGLE_TOKEN_AUDIENCE = "https://oauth2.googleapis.com/token"
_FCM_ERROR = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST = "type.googleapis.com/google.rpc.BadRequest"


def _google_error(status: int, state: str, message: str, details: list[dict[str, Any]] | None = None) -> web.Response:
    error: dict[str, Any] = {"code": status, "message": message, "status": state}
    if details:
        error["details"] = details
    return web.json_response({"error": error}, status=status)


def _unregistered() -> web.Response:
    return _google_error(
        404, "NOT_FOUND", "Requested entity was not found.", [{"@type": _FCM_ERROR, "errorCode": "UNREGISTERED"}]
    )


def _invalid_token() -> web.Response:
    return _google_error(
        400,
        "INVALID_ARGUMENT",
        "The registration token is not a valid FCM registration token",
        [
            {"@type": _FCM_ERROR, "errorCode": "INVALID_ARGUMENT"},
            {
                "@type": _BAD_REQUEST,
                "fieldViolations": [{"field": "message.token", "description": "Invalid registration token"}],
            },
        ],
    )


def _bad_field(field: str, description: str) -> web.Response:
    return _google_error(
        400,
        "INVALID_ARGUMENT",
        description,
        [{"@type": _BAD_REQUEST, "fieldViolations": [{"field": field, "description": description}]}],
    )


class FcmEmulator(RecordingEmulator):
    """Issues access tokens to the one service account it knows and accepts sends made with them.

    `unregister(token)` / `invalidate(token)` make a device token answer UNREGISTERED / INVALID_ARGUMENT.
    """

    def __init__(self, project_id: str, client_email: str, public_key_pem: bytes) -> None:
        super().__init__()
        self.project_id = project_id
        self.client_email = client_email
        self._public_key = public_key_pem
        self.access_tokens: set[str] = set()
        self.messages: list[dict[str, Any]] = []
        self._dead_tokens: dict[str, Callable[[], web.Response]] = {}
        self.app.router.add_post(TOKEN_PATH, self._issue_token)
        self.app.router.add_post("/v1/projects/{project}/messages:send", self._send_message)

    def unregister(self, token: str) -> None:
        self._dead_tokens[token] = _unregistered

    def invalidate(self, token: str) -> None:
        self._dead_tokens[token] = _invalid_token

    async def _issue_token(self, request: web.Request) -> web.Response:
        if request.content_type != "application/x-www-form-urlencoded":
            return web.json_response({"error": "invalid_request", "error_description": "Bad Request"}, status=400)
        form = await request.post()
        if form.get("grant_type") != JWT_BEARER_GRANT:
            return web.json_response(
                {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}, status=400
            )
        try:
            claims = jwt.decode(
                str(form.get("assertion", "")),
                self._public_key,
                algorithms=["RS256"],
                audience=GOOGLE_TOKEN_AUDIENCE,
                issuer=self.client_email,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.PyJWTError as error:
            return web.json_response({"error": "invalid_grant", "error_description": str(error)}, status=400)
        if claims["exp"] - claims["iat"] > 3600:
            return web.json_response(
                {"error": "invalid_grant", "error_description": "Invalid JWT: lifetime too long"}, status=400
            )
        access_token = f"ya29.emulated-{secrets.token_urlsafe(24)}"
        self.access_tokens.add(access_token)
        return web.json_response({"access_token": access_token, "expires_in": 3599, "token_type": "Bearer"})

    async def _send_message(self, request: web.Request) -> web.Response:
        authorization = request.headers.get("Authorization", "")
        if authorization.removeprefix("Bearer ") not in self.access_tokens:
            return _google_error(
                401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token."
            )
        if request.match_info["project"] != self.project_id:
            return _google_error(403, "PERMISSION_DENIED", "Permission 'cloudmessaging.messages.create' denied")
        if request.content_type != "application/json":
            return _bad_field("message", "Content-Type must be application/json")
        try:
            body = await request.json()
        except ValueError:
            return _bad_field("message", "Invalid JSON payload received.")
        message = body.get("message") if isinstance(body, dict) else None
        if not isinstance(message, dict):
            return _bad_field("message", "Recipient of the message is not set.")
        targets = [key for key in ("token", "topic", "condition") if message.get(key)]
        if len(targets) != 1:
            return _bad_field("message", "Exactly one of token, topic or condition must be set.")
        for index, (key, value) in enumerate((message.get("data") or {}).items()):
            if not isinstance(value, str):
                return _bad_field(
                    f"message.data[{index}].value", f"Invalid value at 'message.data[{index}].value' ({key})"
                )
        refusal = self._dead_tokens.get(message.get("token", ""))
        if refusal is not None:
            return refusal()
        name = f"projects/{self.project_id}/messages/{uuid.uuid4().hex}"
        self.messages.append({"name": name, "validate_only": bool(body.get("validate_only")), **message})
        return web.json_response({"name": name})
