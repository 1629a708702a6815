"""Admins at the console: finding an account, granting and removing a role (audited, the API's own change), and
only admins get there."""

import pytest
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from tests.browser.conftest import Browsers
from tests.browser.console_steps import accessible, screenshot, sign_in, with_two_factor
from tests.factories import DEFAULT_PASSWORD, auth_header, create_user

pytestmark = pytest.mark.timeout(180)


async def test_an_admin_finds_an_account_and_grants_it_a_role(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    amina = await create_user(client.app, email="amina@example.com")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)

    await page.click("nav >> text=Users")
    await page.wait_for_selector("table")
    await accessible(page)
    await screenshot(browsers, page, "01-users")
    await page.fill("#q", "nobody@example.com")
    await page.click("#find-user")
    assert "No account is nobody@example.com" in await page.inner_text("#not-found")
    await page.fill("#q", "AMINA@example.com")
    await page.keyboard.press("Enter")
    await page.wait_for_url(f"{gateway_url}/console/users/{amina.id}")
    await accessible(page)
    await page.click("#grant-scanner")

    assert await page.inner_text("#done") == "Role granted."
    assert "scanner" in await page.inner_text("#roles")
    await screenshot(browsers, page, "02-role-granted")
    stored = await User.get(amina.id)
    assert stored is not None and "scanner" in stored.roles
    [granted] = await AuditEvent.find({"kind": AuditKind.ROLE_GRANTED, "user_id": amina.id}).to_list()
    assert str(granted.actor_id) == str(admin.id)

    await page.click("button[aria-label='Remove the role scanner']")
    assert "Role removed" in await page.inner_text("#done")
    stored = await User.get(amina.id)
    assert stored is not None and "scanner" not in stored.roles

    signed_in = await client.post("/v1/auth/login", json={"email": "amina@example.com", "password": DEFAULT_PASSWORD, "device": "Amina's phone"})
    assert signed_in.status == 200
    await page.reload()
    await page.click("button[aria-label=\"Sign out Amina's phone\"]")
    assert "Device signed out" in await page.inner_text("#done")
    refused = await client.get("/v1/auth/me", headers=auth_header((await signed_in.json())["tokens"]["access_token"]))
    assert refused.status == 401

    await page.click("text=This account's audit log")
    kinds = await page.locator("#audit tbody td:nth-child(2)").all_inner_texts()
    assert kinds == ["session_revoked", "login_succeeded", "role_removed", "role_granted"]
    await accessible(page)
    await screenshot(browsers, page, "03-audit-log")
    await page.goto(f"{gateway_url}/console/audit?user_id=not-an-id")
    assert await page.locator("#problem").count() == 1


async def test_an_admin_cannot_remove_their_own_admin_role(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    admin, secret = await with_two_factor(client, "admin")
    page = await sign_in(browsers, gateway_url, admin.email or "", secret)
    await page.goto(f"{gateway_url}/console/users/{admin.id}")

    await page.click("button[aria-label='Remove the role admin']")

    assert "cannot remove your own admin role" in await page.inner_text("#problem")
    stored = await User.get(admin.id)
    assert stored is not None and "admin" in stored.roles


async def test_an_agent_is_refused_the_admin_pages(client: TestClient, browsers: Browsers, gateway_url: str) -> None:
    agent, secret = await with_two_factor(client, "agent")
    page = await sign_in(browsers, gateway_url, agent.email or "", secret)

    answer = await page.goto(f"{gateway_url}/console/users")

    assert answer is not None and answer.status == 403
    assert "may not do this" in await page.inner_text("#problem")
    assert await page.locator("nav >> text=Users").count() == 0
