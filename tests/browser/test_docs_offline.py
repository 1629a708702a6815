"""/docs renders the API reference in Chromium with every request outside the gateway refused, as on a machine with
no internet."""

import pytest
from playwright.async_api import Route

from tests.browser.conftest import Browsers
from tests.browser.console_steps import screenshot

pytestmark = pytest.mark.timeout(180)


async def test_the_api_reference_renders_with_no_internet(browsers: Browsers, gateway_url: str) -> None:
    context = await browsers.context()
    elsewhere: list[str] = []

    async def only_the_gateway(route: Route) -> None:
        if route.request.url.startswith(gateway_url):
            await route.continue_()
        else:
            elsewhere.append(route.request.url)
            await route.abort("internetdisconnected")

    await context.route("**/*", only_the_gateway)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    await page.goto(f"{gateway_url}/docs")

    await page.wait_for_selector(".swagger-ui .info .title")
    assert "Lango API" in await page.inner_text(".swagger-ui .info .title")
    assert await page.locator(".opblock-tag-section").count() > 5
    await page.click("[data-path='/v1/auth/login']")
    await page.wait_for_selector(".opblock.is-open")
    await screenshot(browsers, page, "docs")
    assert elsewhere == [] and refused == []
