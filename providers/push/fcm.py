"""Push adapter for Firebase Cloud Messaging (HTTP v1) through firebase-admin's async client, one named app each."""

import asyncio
import json
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

import firebase_admin
import google.auth.exceptions
import structlog
from firebase_admin import credentials, exceptions, messaging
from pydantic import SecretStr

from providers.errors import ProviderError, ProviderMisconfigured, VendorRejected, VendorUnavailable
from providers.push.base import PushMessage, PushResult, TokenOutcome
from providers.settings import HttpUrl, VendorSettings

VENDOR = "fcm"
# FCM accepts 500 tokens per multicast, but firebase-admin sends one HTTP request per token, all at once, and
# httpcore's pool bookkeeping grows with the square of requests in flight: 100 per call keeps the loop responsive.
FCM_BATCH_LIMIT = 100
FCM_ORIGIN = "https://fcm.googleapis.com"
TIMEOUT_S = 10.0

_FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
_BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
_RETRYABLE_CODES = {"UNAVAILABLE", "INTERNAL", "QUOTA_EXCEEDED", "RESOURCE_EXHAUSTED", "DEADLINE_EXCEEDED", "UNKNOWN"}
_DEPLOYMENT_CODES = {
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "THIRD_PARTY_AUTH_ERROR",
    "SENDER_ID_MISMATCH",
    "NOT_FOUND",
}

log = structlog.get_logger(__name__)


class FcmSettings(VendorSettings):
    """The `push.fcm` settings: a service-account key (its JSON, or a path to it); `endpoint` points the adapter at an
    FCM emulator.

    The key's own `token_uri` decides where OAuth tokens come from, so an emulator's key names the emulator.
    """

    section: ClassVar[str] = "push.fcm"

    service_account_json: SecretStr | None = None
    service_account_file: Path | None = None
    # Defaults to the key's project_id.
    project_id: str | None = None
    endpoint: HttpUrl | None = None
    # FCM validates each message without delivering it.
    dry_run: bool = False

    def service_account_info(self) -> dict[str, Any]:
        if (self.service_account_json is None) == (self.service_account_file is None):
            raise ProviderMisconfigured(
                f"{self.section}: set exactly one of service_account_json and service_account_file", vendor=VENDOR
            )
        try:
            if self.service_account_json is not None:
                return json.loads(self.service_account_json.get_secret_value())
            return json.loads(Path(self.service_account_file).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise ProviderMisconfigured(
                "FCM service-account key unreadable", vendor=VENDOR, reason=type(error).__name__
            ) from error


class FcmPushSender:
    name = VENDOR

    def __init__(self, settings: FcmSettings, *, timeout_seconds: float = TIMEOUT_S) -> None:
        info = settings.service_account_info()
        try:
            certificate = credentials.Certificate(info)
        except ValueError as error:
            raise ProviderMisconfigured("FCM service-account key invalid", vendor=VENDOR, reason=str(error)) from error
        project_id = settings.project_id or info.get("project_id")
        if not project_id:
            raise ProviderMisconfigured("FCM needs a project id", vendor=VENDOR)
        self._dry_run = settings.dry_run
        self._certificate = certificate
        self._token_refresh = asyncio.Lock()
        # A named app per adapter keeps its credential, timeout and endpoint apart from any other Firebase use.
        self._app = firebase_admin.initialize_app(
            certificate,
            {"projectId": project_id, "httpTimeout": timeout_seconds},
            name=f"lango-fcm-{uuid.uuid4().hex}",
        )
        # Created now, at start-up: building its HTTP clients loads CA certificates, which blocks.
        service = messaging._get_messaging_service(self._app)
        self._async_http = _async_http_client_of(service)
        if settings.endpoint is not None:
            _point_at_emulator(service, settings.endpoint, project_id)

    async def send(self, message: PushMessage) -> PushResult:
        await self._fresh_access_token()
        outcomes: list[TokenOutcome] = []
        failures: list[Exception] = []
        for start in range(0, len(message.tokens), FCM_BATCH_LIMIT):
            batch = message.tokens[start : start + FCM_BATCH_LIMIT]
            try:
                response = await messaging.send_each_for_multicast_async(
                    _multicast(message, batch), dry_run=self._dry_run, app=self._app
                )
            except exceptions.FirebaseError as error:
                raise VendorUnavailable("FCM send failed", vendor=VENDOR, reason=str(error)) from error
            for token, answer in zip(batch, response.responses, strict=True):
                outcomes.append(_outcome(token, answer))
                if answer.exception is not None:
                    failures.append(answer.exception)
            log.info("push batch sent", devices=len(batch), delivered=response.success_count, kind=message.kind)
        result = PushResult(provider=self.name, outcomes=tuple(outcomes))
        _raise_when_nothing_went_out(result, failures)
        return result

    async def aclose(self) -> None:
        # delete_app closes the async HTTP client with asyncio.run, which cannot work on connections of this loop;
        # closed here first, the client is already shut when delete_app reaches it.
        await self._async_http.aclose()
        await asyncio.to_thread(firebase_admin.delete_app, self._app)

    async def _fresh_access_token(self) -> None:
        """Fetch the OAuth token in a thread: left to firebase-admin, the refresh would block the event loop."""
        if self._certificate.get_credential().valid:
            return
        async with self._token_refresh:
            if self._certificate.get_credential().valid:
                return
            try:
                await asyncio.to_thread(self._certificate.get_access_token)
            except google.auth.exceptions.TransportError as error:
                raise VendorUnavailable("OAuth token endpoint unreachable", vendor=VENDOR, reason=str(error)) from error
            except google.auth.exceptions.RefreshError as error:
                if error.retryable:
                    raise VendorUnavailable("OAuth token refresh failed", vendor=VENDOR, reason=str(error)) from error
                raise ProviderMisconfigured("OAuth token refused", vendor=VENDOR, reason=str(error)) from error


def _async_http_client_of(service: Any) -> Any:
    client = getattr(service, "_async_client", None)
    if not callable(getattr(client, "aclose", None)):
        raise ProviderMisconfigured(
            "this firebase-admin version hides its async HTTP client", vendor=VENDOR, reason=firebase_admin.__version__
        )
    return client


def _point_at_emulator(service: Any, endpoint: str, project_id: str) -> None:
    """firebase-admin has no endpoint option; swap the send URL it built, refusing if its shape ever changes."""
    production_url = f"{FCM_ORIGIN}/v1/projects/{project_id}/messages:send"
    if getattr(service, "_fcm_url", None) != production_url:
        raise ProviderMisconfigured(
            "this firebase-admin version cannot be pointed at an FCM emulator",
            vendor=VENDOR,
            reason=firebase_admin.__version__,
        )
    service._fcm_url = f"{endpoint.rstrip('/')}/v1/projects/{project_id}/messages:send"


def _multicast(message: PushMessage, tokens: Sequence[str]) -> messaging.MulticastMessage:
    apns_headers = {"apns-priority": "10" if message.priority == "high" else "5", "apns-push-type": "alert"}
    if message.collapse_key:
        apns_headers["apns-collapse-id"] = message.collapse_key
    with warnings.catch_warnings():
        # firebase-admin 7.7 deprecates registration tokens in favour of installation ids (fids), but the apps
        # register tokens and FCM still delivers to them; moving to fids needs the apps to send those instead.
        warnings.filterwarnings("ignore", "MulticastMessage.tokens is deprecated", DeprecationWarning)
        return messaging.MulticastMessage(
            tokens=list(tokens),
            notification=messaging.Notification(title=message.title, body=message.body),
            data=dict(message.data) or None,
            android=messaging.AndroidConfig(collapse_key=message.collapse_key, priority=message.priority),
            apns=messaging.APNSConfig(headers=apns_headers),
        )


def _error_details(error: exceptions.FirebaseError) -> tuple[str | None, list[str]]:
    """FCM's own error code and the fields a BadRequest detail blames, read from the raw answer."""
    try:
        details = error.http_response.json()["error"].get("details", [])
    except (AttributeError, KeyError, TypeError, ValueError):
        return None, []
    fcm_code = next((d.get("errorCode") for d in details if d.get("@type") == _FCM_ERROR_TYPE), None)
    fields = [
        violation.get("field", "")
        for detail in details
        if detail.get("@type") == _BAD_REQUEST_TYPE
        for violation in detail.get("fieldViolations", [])
    ]
    return fcm_code, fields


def _outcome(token: str, answer: messaging.SendResponse) -> TokenOutcome:
    if answer.success:
        return TokenOutcome(token=token, message_id=answer.message_id)
    error = answer.exception
    fcm_code, blamed_fields = _error_details(error)
    code = fcm_code or error.code
    # INVALID_ARGUMENT also covers a bad payload; only forget the token when nothing but the token is blamed.
    token_is_dead = code == "UNREGISTERED" or (
        fcm_code == "INVALID_ARGUMENT" and all(field == "message.token" for field in blamed_fields)
    )
    return TokenOutcome(token=token, error=code, remove_token=token_is_dead, retryable=code in _RETRYABLE_CODES)


def _raise_when_nothing_went_out(result: PushResult, failures: list[Exception]) -> None:
    """Outcomes are returned whenever some device got it or some token must go; otherwise raise by remedy."""
    if result.delivered_tokens or result.tokens_to_remove:
        return
    codes = {outcome.error for outcome in result.outcomes}
    error_type: type[ProviderError]
    if codes & _DEPLOYMENT_CODES:
        error_type = ProviderMisconfigured
    elif codes <= _RETRYABLE_CODES:
        error_type = VendorUnavailable
    else:
        error_type = VendorRejected
    listed = ", ".join(sorted(map(str, codes)))
    raise error_type(f"FCM delivered to no device ({listed})", vendor=VENDOR) from failures[0]
