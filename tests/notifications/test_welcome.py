"""A new account is welcomed in its inbox."""

from tests.accounts.helpers import sign_up
from tests.notifications.conftest import Start


async def test_signing_up_puts_a_welcome_in_the_inbox(start: Start) -> None:
    # The sign-up code is sent by a job: the worker runs inside the gateway.
    client = await start(run_worker=True)
    signed_up = await sign_up(client, email="otieno@example.com", password="a sturdy pass phrase 42")
    token = signed_up["tokens"]["access_token"]

    inbox = await (await client.get("/v1/me/notifications", headers={"Authorization": f"Bearer {token}"})).json()

    welcomes = [item for item in inbox["items"] if item["kind"] == "welcome"]
    assert len(welcomes) == 1 and "Karibu" in welcomes[0]["title"]
