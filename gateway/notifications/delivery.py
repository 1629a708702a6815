"""The delivery job: one notification on one channel, retried with backoff, its outcome kept on the notification."""

from typing import Any

from beanie import PydanticObjectId

from documents.device import Device
from documents.notification import URGENT_KINDS, Channel, Notification
from documents.user import User
from gateway.jobs import JobPolicy, job
from gateway.logs import get_logger
from gateway.metrics import PUSHES_SENT, count_push
from gateway.notifications.templates import TEMPLATES, Rendered
from gateway.services import Services
from providers.delivery import SendReceipt
from providers.email import EmailMessage
from providers.errors import ProviderError, VendorUnavailable
from providers.push import PushMessage
from providers.sms import SmsMessage

log = get_logger("lango.notifications.delivery")
DELIVERY_POLICY = JobPolicy(retries=5, retry_delay_s=1.0, max_retry_delay_s=120.0, timeout_s=60)


class Unreachable(Exception):
    """The user has no address (or device) on this channel any more; trying again will not help."""


@job(DELIVERY_POLICY)
async def deliver_notification(ctx: dict[str, Any], *, notification_id: str, channel: str) -> str | None:
    """Send once; a vendor that may recover is retried by the queue, any other failure is final at once."""
    services: Services = ctx["services"]
    on = Channel(channel)
    notification = await Notification.start_attempt(PydanticObjectId(notification_id), on)
    if notification is None:
        return None
    attempt = notification.deliveries[on].attempts
    final_attempt = attempt >= DELIVERY_POLICY.retries
    try:
        receipt = await _send(services, notification, on)
    except VendorUnavailable as error:
        reason = failure_reason(error)
        await Notification.record_failure(notification.id, on, error.vendor, reason, final=final_attempt)  # type: ignore[arg-type]
        log.warning("delivery failed", notification_id=notification_id, channel=channel, attempt=attempt, reason=reason)
        if final_attempt:
            return "failed"
        raise
    except ProviderError as error:
        reason = failure_reason(error)
        await Notification.record_failure(notification.id, on, error.vendor, reason, final=True)  # type: ignore[arg-type]
        log.warning("delivery refused", notification_id=notification_id, channel=channel, reason=reason)
        return "failed"
    except Unreachable as error:
        await Notification.record_failure(notification.id, on, "", str(error), final=True)  # type: ignore[arg-type]
        return "failed"
    await Notification.record_sent(notification.id, on, receipt.provider, receipt.message_id)  # type: ignore[arg-type]
    return "sent"


def failure_reason(error: ProviderError) -> str:
    """What the adapter said and, when it kept one, the vendor's own words."""
    return f"{error}: {error.reason}" if error.reason else str(error)


async def _send(services: Services, notification: Notification, channel: Channel) -> SendReceipt:
    rendered = TEMPLATES.render(notification.kind, notification.locale, notification.context)
    if channel == Channel.PUSH:
        return await _push(services, notification, rendered)
    user = await User.get(PydanticObjectId(notification.user_id))
    if channel == Channel.EMAIL:
        if user is None or not user.email:
            raise Unreachable("the user has no email address")
        message = EmailMessage(
            to=user.email,
            subject=rendered.subject,
            text=rendered.text,
            html=rendered.html,
            kind=notification.kind.value,
            tags={"notification": str(notification.id)},
        )
        return await services.email.send(message)
    if user is None or not user.phone:
        raise Unreachable("the user has no phone number")
    return await services.sms.send(SmsMessage(to=user.phone, text=rendered.sms, kind=notification.kind.value))


async def _push(services: Services, notification: Notification, rendered: Rendered) -> SendReceipt:
    """One multicast to all the user's devices; tokens FCM calls unregistered or invalid are forgotten."""
    tokens = await Device.tokens_of(notification.user_id)
    if not tokens:
        PUSHES_SENT.labels("no_device").inc()
        raise Unreachable("the user has no registered device")
    message = PushMessage(
        tokens=tuple(tokens),
        title=rendered.push_title,
        body=rendered.push_body,
        data={**notification.data, "notification_id": str(notification.id), "kind": notification.kind.value},
        collapse_key=notification.dedupe_key[:64] if notification.dedupe_key else None,
        priority="high" if notification.kind in URGENT_KINDS else "normal",
        kind=notification.kind.value,
    )
    result = await services.push.send(message)
    await Device.forget(result.tokens_to_remove)
    count_push(len(result.delivered_tokens))
    delivered = [outcome for outcome in result.outcomes if outcome.delivered]
    if not delivered:
        errors = sorted({str(outcome.error) for outcome in result.outcomes})
        raise Unreachable(f"no device took the push ({', '.join(errors)})")
    return SendReceipt(provider=result.provider, message_id=str(delivered[0].message_id))
