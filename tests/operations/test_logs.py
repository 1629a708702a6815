"""Log lines never carry secrets, tokens, passwords or full phone numbers, whatever logs them."""

import io
import logging

import orjson
import structlog

from gateway.integrations.api_keys import new_secret

PHONE = "+254712345678"
TOKEN = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJ1c2VyIn0.c2lnbmF0dXJl"


def _lines(buffer: io.StringIO) -> list[dict[str, object]]:
    return [orjson.loads(line) for line in buffer.getvalue().splitlines() if line]


def test_secrets_and_phone_numbers_are_masked_in_fields_and_messages(json_lines: io.StringIO) -> None:
    log = structlog.stdlib.get_logger("lango.test.redaction")
    log.info(
        f"stk push sent to {PHONE} with Bearer {TOKEN}",
        phone=PHONE,
        access_token=TOKEN,
        password="hunter2-hunter2",
        mpesa_passkey="bfb279f9aa9bdbcf158e97dd71a467cd",
        payload={"msisdn": "254712345678", "headers": {"Authorization": f"Bearer {TOKEN}"}},
        callback="https://user:s3cret@example.com/cb",
        result_code="0",
    )
    line = json_lines.getvalue()
    for secret in (TOKEN, "hunter2", "bfb279f9aa9bdbcf158e97dd71a467cd", "712345678", "s3cret"):
        assert secret not in line
    record = _lines(json_lines)[0]
    assert record["phone"].endswith("78") and "*" in record["phone"]  # type: ignore[union-attr]
    assert record["password"] == record["access_token"] == "[redacted]"
    assert record["result_code"] == "0"
    assert "stk push sent to" in record["event"]  # type: ignore[operator]


def test_exception_tracebacks_are_scrubbed(json_lines: io.StringIO) -> None:
    log = structlog.stdlib.get_logger("lango.test.redaction")
    try:
        raise RuntimeError(f"vendor refused mongodb://lango:pa55word@db:27017 for {PHONE}")
    except RuntimeError:
        log.exception("vendor call failed")
    line = json_lines.getvalue()
    assert "RuntimeError" in line
    assert "pa55word" not in line and PHONE not in line


def test_standard_library_loggers_are_scrubbed_too(json_lines: io.StringIO) -> None:
    logging.getLogger("some.library").warning("retrying with token=abcdef0123456789 for 0712345678")
    line = json_lines.getvalue()
    assert "abcdef0123456789" not in line and "0712345678" not in line
    assert "retrying" in line


def test_integration_api_keys_are_masked(json_lines: io.StringIO) -> None:
    secret = new_secret()
    log = structlog.stdlib.get_logger("lango.test.redaction")
    log.warning(f"integration called with {secret}", headers={"X-API-Key": secret}, detail=f"key={secret}")
    line = json_lines.getvalue()
    assert secret not in line and secret[3:] not in line
    assert "integration called with" in line
