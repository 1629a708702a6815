"""A host or agent sets the M-Pesa phone they are paid on, proving with an SMS code that they hold it."""

import pytest
from aiohttp.test_utils import TestClient

from documents.payout_destination import PayoutDestination
from gateway.settings import Settings
from tests.accounts.helpers import code_sent_to
from tests.conftest import make_settings
from tests.properties.builders import problem_type, signed_in

PHONE = "+254712345678"


@pytest.fixture
def settings(settings: Settings, mongodb_url: str, redis_url: str) -> Settings:
    return make_settings(
        mongodb_url, redis_url, redis={"namespace": settings.redis.namespace}, server=settings.server.model_dump(),
        auth={"otp_resend_cooldown_s": 0}, rate_limits={"payout_destination_requests_per_user": "2/hour"},
    )  # fmt: skip


async def test_the_payout_phone_is_set_only_once_its_code_comes_back(client: TestClient) -> None:
    agent_id, agent = await signed_in(client, "agent")
    assert (await client.get("/v1/payouts/destination", headers=agent)).status == 404
    asked = await client.put("/v1/payouts/destination", json={"phone": "0712 345 678"}, headers=agent)
    assert asked.status == 202, await asked.text()
    assert await PayoutDestination.of(agent_id) is None
    code = await code_sent_to(client, PHONE)

    wrong = await client.post("/v1/payouts/destination/confirm", json={"code": f"{(int(code) + 1) % 10**6:06d}"}, headers=agent)
    assert wrong.status == 400 and await problem_type(wrong) == "otp-invalid"
    _, stranger = await signed_in(client, "agent")
    stolen = await client.post("/v1/payouts/destination/confirm", json={"code": code}, headers=stranger)
    assert stolen.status == 410

    confirmed = await client.post("/v1/payouts/destination/confirm", json={"code": code}, headers=agent)
    assert confirmed.status == 200, await confirmed.text()
    assert (await confirmed.json())["phone"] == "2547*****678"
    assert (await PayoutDestination.of(agent_id)).phone == "254712345678"
    replay = await client.post("/v1/payouts/destination/confirm", json={"code": code}, headers=agent)
    assert replay.status == 410
    assert (await (await client.get("/v1/payouts/destination", headers=agent)).json())["phone"] == "2547*****678"


async def test_codes_for_a_new_payout_phone_are_rate_limited(client: TestClient) -> None:
    _, agent = await signed_in(client, "agent")
    statuses = [(await client.put("/v1/payouts/destination", json={"phone": f"07123456{n:02d}"}, headers=agent)).status
                for n in range(3)]  # fmt: skip
    assert statuses == [202, 202, 429]
    bad = await client.put("/v1/payouts/destination", json={"phone": "0201234567"}, headers=agent)
    assert bad.status == 422 and await problem_type(bad) == "payment-details-invalid"
