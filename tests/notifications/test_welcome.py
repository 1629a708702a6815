"""A new account is welcomed in its inbox."""

from aiohttp.test_utils import TestClient


async def test_signing_up_puts_a_welcome_in_the_inbox(client: TestClient) -> None:
    signed_up = await client.post("/v1/auth/signup", json={"email": "otieno@example.com", "password": "a sturdy pass phrase 42"})
    assert signed_up.status == 201, await signed_up.text()
    token = (await signed_up.json())["tokens"]["access_token"]

    inbox = await (await client.get("/v1/me/notifications", headers={"Authorization": f"Bearer {token}"})).json()

    welcomes = [item for item in inbox["items"] if item["kind"] == "welcome"]
    assert len(welcomes) == 1 and "Karibu" in welcomes[0]["title"]
