"""One-time codes sent at once, whatever the user's preferences and quiet hours: the person is waiting for them."""

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
    user: User,
    *,
    destination: str,
    code: str,
    purpose: str,
    minutes: int,
) -> None:
    """Send the code to `destination` (the user's phone or an email address) in the user's language.

    The inbox keeps that a code was sent and how it went, never the code; a vendor error reaches the caller.
    """
    preferences = await NotificationPreferences.of(
        str(user.id), default_locale=settings.default_locale, default_time_zone=settings.default_time_zone
    )
    context = {"code": code, "purpose": purpose, "minutes": minutes, "app_url": settings.public_app_url}
    rendered = TEMPLATES.render(NotificationKind.OTP, preferences.locale, context)
    channel = Channel.SMS if destination == user.phone else Channel.EMAIL
    delivery = ChannelDelivery(attempts=1)
    try:
        if channel == Channel.SMS:
            receipt = await sms.send(SmsMessage(to=destination, text=rendered.sms, kind=NotificationKind.OTP.value))
        else:
            receipt = await email.send(
                EmailMessage(
                    to=destination,
                    subject=rendered.subject,
                    text=rendered.text,
                    html=rendered.html,
                    kind=NotificationKind.OTP.value,
                )
            )
    except ProviderError as error:
        delivery.status, delivery.provider, delivery.reason = DeliveryStatus.FAILED, error.vendor, failure_reason(error)
        raise
    else:
        delivery.status, delivery.provider = DeliveryStatus.SENT, receipt.provider
        delivery.vendor_message_id = receipt.message_id
    finally:
        await Notification(
            user_id=str(user.id),
            kind=NotificationKind.OTP,
            title=rendered.push_title,
            body=rendered.push_body,
            locale=preferences.locale,
            context=to_jsonable_python({key: value for key, value in context.items() if key != "code"}),
            deliveries={channel: delivery},
        ).insert()
