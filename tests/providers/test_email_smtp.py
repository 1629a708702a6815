"""The SMTP adapter against a real aiosmtpd server: STARTTLS, implicit TLS, login, multipart bodies, refusals."""

import asyncio
import datetime
import ipaddress
import ssl
import warnings
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from pydantic import SecretStr, ValidationError

from providers.email import EmailMessage, SmtpEmailSender, SmtpSettings
from providers.errors import ProviderMisconfigured, VendorRejected, VendorUnavailable

USERNAME, PASSWORD = "lango", "relay-secret"

MESSAGE = EmailMessage(
    to="guest@example.com",
    subject="Booking confirmed — Diani Beach Villa",
    text="Your stay from 2 to 5 March is confirmed.",
    html="<h1>Karibu!</h1><p>Your stay from <b>2 to 5 March</b> is confirmed.</p>",
    kind="booking_confirmed",
)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 that the client trusts through `ca_file`."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_file, key_file


class Mailbox:
    """aiosmtpd handler that keeps what it accepts and refuses recipients it is told to."""

    def __init__(self) -> None:
        self.envelopes: list[Envelope] = []
        self.refusals: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refusals:
            return self.refusals[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.envelopes.append(envelope)
        return "250 2.0.0 Ok: queued"


def _check_login(server, session, envelope, mechanism, auth_data):
    accepted = isinstance(auth_data, LoginPassword) and (auth_data.login, auth_data.password) == (
        USERNAME.encode(),
        PASSWORD.encode(),
    )
    return AuthResult(success=accepted, handled=False)


async def _serve(mailbox: Mailbox, certificate: tuple[Path, Path], implicit_tls: bool):
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(*certificate)

    def session() -> SMTP:
        with warnings.catch_warnings():
            # aiosmtpd cannot tell an implicit-TLS socket from a plain one, so it warns about AUTH without TLS.
            warnings.filterwarnings("ignore", "Requiring AUTH while not requiring TLS", UserWarning)
            return SMTP(
                mailbox,
                hostname="mail.test",
                tls_context=None if implicit_tls else server_tls,
                require_starttls=not implicit_tls,
                authenticator=_check_login,
                auth_required=True,
                auth_require_tls=not implicit_tls,
            )

    return await asyncio.get_running_loop().create_server(
        session,
        "127.0.0.1",
        0,
        ssl=server_tls if implicit_tls else None,
    )


@pytest.fixture
def mailbox() -> Mailbox:
    return Mailbox()


@pytest.fixture(params=["starttls", "tls"])
async def relay(request, mailbox, certificate):
    server = await _serve(mailbox, certificate, implicit_tls=request.param == "tls")
    port = server.sockets[0].getsockname()[1]
    yield SmtpSettings(
        host="127.0.0.1",
        port=port,
        security=request.param,
        username=USERNAME,
        password=PASSWORD,
        sender="Lango <bookings@lango.test>",
        ca_file=certificate[0],
        helo_hostname="gateway.lango.test",
    )
    server.close()
    await server.wait_closed()


async def test_relay_receives_multipart_alternative_with_both_bodies(relay, mailbox):
    receipt = await SmtpEmailSender(relay).send(MESSAGE)

    [envelope] = mailbox.envelopes
    assert envelope.mail_from == "bookings@lango.test"
    assert envelope.rcpt_tos == ["guest@example.com"]
    received = message_from_bytes(envelope.original_content, policy=policy.default)
    assert received.get_content_type() == "multipart/alternative"
    assert received["From"] == "Lango <bookings@lango.test>"
    assert received["To"] == "guest@example.com"
    assert received["Subject"] == MESSAGE.subject
    assert received["Message-ID"] == receipt.message_id
    assert received.get_body(("plain",)).get_content().strip() == MESSAGE.text
    assert received.get_body(("html",)).get_content().strip() == MESSAGE.html
    assert receipt.provider == "smtp"


async def test_text_only_email_is_a_single_plain_part(relay, mailbox):
    await SmtpEmailSender(relay).send(MESSAGE.model_copy(update={"html": None}))

    received = message_from_bytes(mailbox.envelopes[0].original_content, policy=policy.default)
    assert received.get_content_type() == "text/plain"
    assert received.get_content().strip() == MESSAGE.text


async def test_wrong_password_is_a_deployment_problem(relay):
    sender = SmtpEmailSender(relay.model_copy(update={"password": SecretStr("wrong")}))
    with pytest.raises(ProviderMisconfigured) as raised:
        await sender.send(MESSAGE)
    assert raised.value.__cause__ is not None


@pytest.mark.parametrize(
    ("reply", "expected"),
    [("550 5.1.1 No such user", VendorRejected), ("451 4.3.0 Try again later", VendorUnavailable)],
)
async def test_refused_recipient_maps_permanent_and_transient_replies(relay, mailbox, reply, expected):
    mailbox.refusals["guest@example.com"] = reply
    with pytest.raises(expected) as raised:
        await SmtpEmailSender(relay).send(MESSAGE)
    assert raised.value.reason == reply[4:]


async def test_unreachable_relay_is_retryable(relay):
    sender = SmtpEmailSender(relay.model_copy(update={"port": 1}))
    with pytest.raises(VendorUnavailable):
        await sender.send(MESSAGE)


async def test_login_without_password_fails_at_start():
    with pytest.raises(ValidationError, match="username and password go together"):
        SmtpSettings(host="smtp.test", username="u", sender="a@lango.test")


async def test_without_a_host_or_sender_the_adapter_is_not_built():
    with pytest.raises(ProviderMisconfigured, match=r"missing settings: email\.smtp\.host, email\.smtp\.sender"):
        SmtpEmailSender(SmtpSettings())
