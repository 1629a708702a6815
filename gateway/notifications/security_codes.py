"""Security messages sent at once, whatever the user's preferences and quiet hours: one-time codes (the person is
waiting for them) and sign-up notices to the owner of an address someone tried to sign up with."""

from typing import Any

from pydantic_core import to_jsonable_python

from documents.notification import Channel, ChannelDelivery, DeliveryStatus, Notification, NotificationKind
from documents.notification_preferences import NotificationPreferences
from documents.user import User
from gateway.notifications.delivery import failure_reason
from gateway.notifications.templates import TEMPLATES
from gateway.settings import NotificationSettings
from providers.email import EmailMessage, EmailSender
from providers.errors import ProviderError
from providers.sms import SmsMessage, SmsSender


async def send_security_code(
    email: EmailSender,
    sms: SmsSender,
    settings: NotificationSettings,
    user: User | None,
    *,
    destination: str,
    code: str,
    purpose: str,
    minutes: int,
) -> None:
    """Send the code to `destination`: the user's email or phone, or for a sign-up (no user yet) a new one."""
    context = {"code": code, "purpose": purpose, "minutes": minutes}
    await send_security_message(email, sms, settings, user, destination=destination, kind=NotificationKind.OTP, context=context)


async def send_security_message(
    email: EmailSender,
    sms: SmsSender,
    settings: NotificationSettings,
    user: User | None,
    *,
    destination: str,
    kind: NotificationKind,
    context: dict[str, Any],
) -> None:
    """Send `kind` to `destination` (an email address by email, a phone number by SMS) in the user's
    language, or the default one when there is no account yet.

    The user's inbox keeps that the message was sent and how it went, never a code; a vendor error reaches the caller.
    """
    if user is not None:
        preferences = await NotificationPreferences.of(
            str(user.id), default_locale=settings.default_locale, default_time_zone=settings.default_time_zone
        )
        locale = preferences.locale
    else:
        locale = settings.default_locale
    values = {**context, "app_url": settings.public_app_url}
    rendered = TEMPLATES.render(kind, locale, values)
    channel = Channel.EMAIL if "@" in destination else Channel.SMS
    delivery = ChannelDelivery(attempts=1)
    try:
        if channel == Channel.SMS:
            receipt = await sms.send(SmsMessage(to=destination, text=rendered.sms, kind=kind.value))
        else:
            receipt = await email.send(
                EmailMessage(to=destination, subject=rendered.subject, text=rendered.text, html=rendered.html, kind=kind.value)
            )
    except ProviderError as error:
        delivery.status, delivery.provider, delivery.reason = DeliveryStatus.FAILED, error.vendor, failure_reason(error)
        raise
    else:
        delivery.status, delivery.provider = DeliveryStatus.SENT, receipt.provider
        delivery.vendor_message_id = receipt.message_id
    finally:
        if user is not None:
            await Notification(
                user_id=str(user.id),
                kind=kind,
                title=rendered.push_title,
                body=rendered.push_body,
                locale=locale,
                context=to_jsonable_python({key: value for key, value in values.items() if key != "code"}),
                deliveries={channel: delivery},
            ).insert()
