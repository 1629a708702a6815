"""Where M-Pesa callbacks may come from: Safaricom's addresses by default, read through trusted proxies only."""

import ipaddress
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from aiohttp.test_utils import TestClient

from documents.payment_event import PaymentEvent
from gateway.app import create_app
from gateway.client_address import forwarded_client
from gateway.settings import ConfigError, Settings
from gateway.state import SERVICES
from providers.emulators import DarajaSettings, create_daraja_emulator, serve_emulator
from providers.payments import SAFARICOM_CALLBACK_SOURCES
from tests.conftest import make_settings
from tests.properties.builders import problem_type

SAFARICOM = "196.201.214.200"
STRANGER = "203.0.113.9"
CALLBACK_TOKEN = "a-callback-token-of-a-live-deployment"
# An STK callback for a push nobody made: stored when its source is accepted, refused (403) before that otherwise.
CALLBACK = {"Body": {"stkCallback": {"MerchantRequestID": "29115-34620561-1", "CheckoutRequestID": "ws_CO_191220191020363925",
                                     "ResultCode": 1032, "ResultDesc": "Request cancelled by user"}}}  # fmt: skip

GatewayFactory = Callable[[list[str]], Awaitable[TestClient]]


@pytest.fixture
async def live_mpesa_gateway(aiohttp_client, settings: Settings, mongodb_url: str, redis_url: str) -> AsyncIterator[GatewayFactory]:  # type: ignore[no-untyped-def]
    """A gateway whose M-Pesa has credentials (here for a Daraja emulator it treats as Safaricom), so no sandbox
    leniency applies: only the configured sources and proxies decide."""
    daraja = DarajaSettings()
    async with serve_emulator(create_daraja_emulator(daraja)) as url:

        async def gateway(trusted_proxies: list[str]) -> TestClient:
            credentials = {"base_url": url, "consumer_key": daraja.consumer_key, "consumer_secret": daraja.consumer_secret,
                           "passkey": daraja.passkey, "shortcode": daraja.shortcode, "callback_token": CALLBACK_TOKEN}  # fmt: skip
            live = make_settings(
                mongodb_url, redis_url, redis={"namespace": settings.redis.namespace},
                server={"trusted_proxies": trusted_proxies}, payments={"methods": ["mpesa"], "mpesa": credentials},
            )  # fmt: skip
            client: TestClient = await aiohttp_client(create_app(live))
            assert client.app[SERVICES].payments.sandbox.daraja is None
            return client

        yield gateway


async def post_callback(client: TestClient, forwarded_for: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded_for} if forwarded_for is not None else {}
    answer = await client.post(f"/webhooks/mpesa/{CALLBACK_TOKEN}", json=CALLBACK, headers=headers)
    if answer.status == 403:
        assert await problem_type(answer) == "webhook-source-refused"
    await client.app[SERVICES].payments.finish_background_work()
    return answer.status


def test_safaricoms_published_addresses_are_the_default_sources(mongodb_url: str, redis_url: str) -> None:
    assert make_settings(mongodb_url, redis_url).payments.mpesa.allowed_sources == SAFARICOM_CALLBACK_SOURCES
    for setting in ({"payments": {"mpesa": {"allowed_sources": ["not-a-network"]}}}, {"server": {"trusted_proxies": ["10.0.0.0/33"]}}):
        with pytest.raises(ConfigError, match="allowed_sources|trusted_proxies"):
            make_settings(mongodb_url, redis_url, **setting)


async def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(live_mpesa_gateway: GatewayFactory) -> None:
    client = await live_mpesa_gateway([])
    # The test client connects from loopback, which is no Safaricom address, whatever the header claims.
    assert await post_callback(client) == 403
    assert await post_callback(client, SAFARICOM) == 403
    assert await PaymentEvent.count() == 0


async def test_behind_a_trusted_proxy_the_client_is_the_rightmost_untrusted_hop(live_mpesa_gateway: GatewayFactory) -> None:
    client = await live_mpesa_gateway(["127.0.0.0/8", "10.0.0.0/8"])

    assert await post_callback(client, SAFARICOM) == 200
    # Safaricom reached an inner proxy, which reached the outer one: both proxies are skipped.
    assert await post_callback(client, f"{SAFARICOM}, 10.1.2.3") == 200
    # A client that writes Safaricom's address itself is still the stranger the proxy saw.
    assert await post_callback(client, f"{SAFARICOM}, {STRANGER}") == 403
    assert await post_callback(client, STRANGER) == 403
    # No header from a proxy: the proxy itself is the client.
    assert await post_callback(client) == 403
    assert await post_callback(client, "not-an-address") == 403
    assert await PaymentEvent.count() == 1


@pytest.mark.parametrize(
    ("peer", "header", "client"),
    [
        ("10.0.0.2", [], "10.0.0.2"),
        ("10.0.0.2", ["203.0.113.9"], "203.0.113.9"),
        ("10.0.0.2", ["198.51.100.1, 203.0.113.9"], "203.0.113.9"),
        ("10.0.0.2", ["198.51.100.1", "203.0.113.9, 10.0.0.7"], "203.0.113.9"),
        ("10.0.0.2", ["10.0.0.5, 10.0.0.7"], "10.0.0.5"),
        ("10.0.0.2", ["garbage, 10.0.0.7"], "10.0.0.7"),
        ("10.0.0.2", ["2001:db8::1"], "2001:db8::1"),
        ("203.0.113.9", ["196.201.214.200"], "203.0.113.9"),
        (None, ["196.201.214.200"], None),
    ],
)
def test_the_forwarded_client_is_read_from_the_right(peer: str | None, header: list[str], client: str | None) -> None:
    assert forwarded_client(peer, header, [ipaddress.ip_network("10.0.0.0/8")]) == client
