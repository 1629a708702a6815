"""The SMS outbox adapter, the SMS message contract and the SMS registry."""

import pytest
from pydantic import ValidationError
from structlog.testing import capture_logs

from providers.outbox import OutboxStore, list_outbox
from providers.sms import OutboxSmsSender, SmsMessage, SmsSettings, create_sms_sender


async def test_outbox_keeps_the_text_and_logs_neither_number_nor_code(provider_redis, redis_namespace, http):
    sender = create_sms_sender(SmsSettings(), outbox=OutboxStore(provider_redis, redis_namespace), http=http)

    with capture_logs() as logs:
        receipt = await sender.send(SmsMessage(to="+254712345612", text="Lango code: 482913", kind="otp"))

    assert isinstance(sender, OutboxSmsSender)
    [entry] = await list_outbox(provider_redis, redis_namespace, channel="sms")
    assert entry["id"] == receipt.message_id
    assert (entry["to"], entry["text"], entry["kind"]) == ("+254712345612", "Lango code: 482913", "otp")
    [line] = logs
    assert line["to"] == "+2547******12"
    assert "482913" not in repr(line) and "712345612" not in repr(line)


async def test_numbers_are_normalised_to_e164():
    assert SmsMessage(to="+254 712 345 678", text="hi", kind="otp").to == "+254712345678"


@pytest.mark.parametrize("number", ["0712345678", "+254", "+2547123456789012", "not a number"])
async def test_numbers_not_in_e164_are_refused(number):
    with pytest.raises(ValidationError):
        SmsMessage(to=number, text="hi", kind="otp")


async def test_registry_refuses_unknown_names():
    with pytest.raises(ValidationError, match=r"provider\n  Input should be 'outbox', 'africastalking' or 'twilio'"):
        SmsSettings(provider="carrier-pigeon")
