"""The console's session: renewed through the API's own refresh, once at a time however many requests arrive at
once, and ended wherever the API session ends."""

import asyncio
import re

import pytest
from aiohttp.test_utils import TestClient

from documents.session import Session
from gateway.settings import Settings
from tests.factories import DEFAULT_PASSWORD, create_user, settings_with


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Every access token is within the minute before its expiry: each console request renews it.
    return settings_with(settings, "auth", access_token_ttl_s=60)


async def form_token(client: TestClient, path: str) -> str:
    page = await client.get(path)
    return re.search(r'name="csrf" value="([^"]+)"', await page.text()).group(1)  # type: ignore[union-attr]


async def console_sign_in(client: TestClient, email: str) -> None:
    token = await form_token(client, "/console/sign-in")
    signed = await client.post("/console/sign-in", data={"csrf": token, "identifier": email, "password": DEFAULT_PASSWORD}, allow_redirects=False)
    assert signed.status == 303 and signed.headers["Location"] == "/console", await signed.text()


async def test_requests_at_once_renew_the_session_without_tripping_reuse_detection(client: TestClient) -> None:
    user = await create_user(client.app)
    await console_sign_in(client, user.email or "")

    answers = await asyncio.gather(*(client.get("/console", allow_redirects=False) for _ in range(8)))
    after = await client.get("/console", allow_redirects=False)

    assert [answer.status for answer in answers] == [200] * 8
    assert after.status == 200
    [session] = await Session.find({"user_id": user.id}).to_list()
    assert session.revoked_at is None


async def test_a_session_ended_through_the_api_ends_the_console_session(client: TestClient) -> None:
    user = await create_user(client.app)
    await console_sign_in(client, user.email or "")
    [session] = await Session.find({"user_id": user.id}).to_list()
    signed_out = await client.post("/v1/auth/login", json={"email": user.email, "password": DEFAULT_PASSWORD})
    tokens = (await signed_out.json())["tokens"]
    revoked = await client.delete(f"/v1/auth/sessions/{session.id}", headers={"Authorization": f"Bearer {tokens['access_token']}"})
    assert revoked.status == 204

    answer = await client.get("/console", allow_redirects=False)

    assert answer.status == 303 and answer.headers["Location"] == "/console/sign-in"


async def test_signing_in_replaces_the_reference_the_browser_had_before(client: TestClient) -> None:
    user = await create_user(client.app)
    await client.get("/console/sign-in")
    before = client.session.cookie_jar.filter_cookies(client.make_url("/console"))["lango_console"].value
    await console_sign_in(client, user.email or "")
    after = client.session.cookie_jar.filter_cookies(client.make_url("/console"))["lango_console"].value

    assert before != after
    client.session.cookie_jar.clear()
    client.session.cookie_jar.update_cookies({"lango_console": before}, client.make_url("/console"))
    assert (await client.get("/console", allow_redirects=False)).status == 303


async def test_a_client_opens_only_so_many_console_sessions(client: TestClient) -> None:
    opened = []
    for _ in range(61):
        client.session.cookie_jar.clear()
        opened.append((await client.get("/console/sign-in")).status)

    assert opened == [200] * 60 + [429]
