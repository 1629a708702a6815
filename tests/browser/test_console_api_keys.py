"""Admins create, rotate and revoke an integration's API key at the console, the secret shown once each time."""

from datetime import UTC, datetime, timedelta

import pytest
from aiohttp.test_utils import TestClient

from documents.api_key import ApiKey
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.factories import create_user

pytestmark = pytest.mark.timeout(180)


async def test_an_admin_creates_rotates_and_revokes_a_key(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    agent = await create_user(client.app, roles=("agent",))
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)
    await page.click("nav >> text=API keys")
    await accessible(page)

    await page.fill("#key-name", "Channel manager")
    await page.fill("#agent-id", str(agent.id))
    await page.check("input[value='bookings:read']")
    await page.fill("#expires-on", (datetime.now(UTC) + timedelta(days=30)).date().isoformat())
    await page.click("#create-key")
    first = await page.inner_text("#secret code")
    listed = await client.get("/v1/integrations/bookings", headers={"X-API-Key": first})
    await screenshot(browsers, page, "01-created")

    await page.click("button[aria-label='Rotate Channel manager']")
    second = await page.inner_text("#secret code")
    await page.click("button[aria-label='Revoke Channel manager']")

    assert first.startswith("lk_") and second.startswith("lk_") and first != second
    assert listed.status == 200
    assert "Key revoked" in await page.inner_text("#done")
    [key] = await ApiKey.find_all().to_list()
    assert key.revoked_at is not None and key.scopes == ["bookings:read"]
    await screenshot(browsers, page, "02-revoked")
