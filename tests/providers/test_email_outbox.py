"""The email outbox adapter and the email registry."""

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from providers.email import EmailMessage, EmailSettings, OutboxEmailSender, create_email_sender
from providers.errors import ProviderMisconfigured
from providers.outbox import OutboxStore, list_outbox


async def test_outbox_keeps_the_whole_email_and_logs_only_a_masked_address(provider_redis, redis_namespace, http):
    sender = create_email_sender(EmailSettings(), outbox=OutboxStore(provider_redis, redis_namespace), http=http)
    message = EmailMessage(
        to="wanjiku@example.co.ke",
        subject="Your Lango code",
        text="Your code is 482913",
        html="<p>Your code is <b>482913</b></p>",
        kind="otp",
        tags={"flow": "signup"},
    )

    with capture_logs() as logs:
        receipt = await sender.send(message)

    assert isinstance(sender, OutboxEmailSender)
    assert receipt.provider == "outbox"
    [entry] = await list_outbox(provider_redis, redis_namespace, channel="email")
    assert entry["id"] == receipt.message_id
    assert entry["to"] == "wanjiku@example.co.ke"
    assert entry["subject"] == "Your Lango code"
    assert entry["text"] == "Your code is 482913"
    assert entry["html"] == "<p>Your code is <b>482913</b></p>"
    assert entry["kind"] == "otp"
    assert entry["tags"] == {"flow": "signup"}
    [line] = logs
    assert line["to"] == "w******@example.co.ke"
    assert "482913" not in repr(line) and "wanjiku" not in repr(line)


@pytest.mark.parametrize(
    "fields",
    [
        {"to": "not-an-address"},
        {"to": "a@example.com\r\nBcc: b@example.com"},
        {"subject": "line\r\nbreak"},
        {"kind": "Not A Kind"},
        {"tags": {"bad key": "v"}},
    ],
)
async def test_messages_that_no_vendor_would_take_are_refused(fields):
    valid = {"to": "a@example.com", "subject": "Hi", "text": "Hello", "kind": "welcome"}
    with pytest.raises(ValidationError):
        EmailMessage(**{**valid, **fields})


async def test_registry_fails_early_with_the_key_to_fix(provider_redis, redis_namespace, http):
    with pytest.raises(ValidationError, match=r"provider\n  Input should be 'outbox', 'smtp', 'resend' or 'sendgrid'"):
        EmailSettings(provider="pigeon")
    resend = EmailSettings(provider="resend")
    with pytest.raises(ProviderMisconfigured, match=r"missing settings: email\.resend\.api_key, email\.resend\.sender"):
        create_email_sender(resend, outbox=OutboxStore(provider_redis, redis_namespace), http=http)
