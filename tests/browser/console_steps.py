"""Steps the console's browser tests share: signing in (with two-factor), checking a page with axe-core and the
keyboard."""

from aiohttp.test_utils import TestClient
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import Page

from documents.user import Role, User
from tests.accounts.helpers import next_totp, turn_on_two_factor
from tests.browser.conftest import Browsers
from tests.factories import DEFAULT_PASSWORD, create_user

# axe-core from the locked axe-playwright-python package, injected by the test: never served to users.
AXE = Axe()


async def with_two_factor(client: TestClient, role: Role, user: User | None = None) -> tuple[User, str]:
    """An account (`user`, or a new one) holding `role`, which needs two-factor, with an authenticator on: the account
    and its TOTP secret. The role is granted once two-factor is on, as an account's owner would have to."""
    user = user or await create_user(client.app)
    await User.set_role(user.id, role, granted=False)  # type: ignore[arg-type]
    secret = await turn_on_two_factor(client, user.email or "")
    granted = await User.set_role(user.id, role, granted=True)  # type: ignore[arg-type]
    assert granted is not None
    return granted, secret


async def sign_in(browsers: Browsers, gateway_url: str, email: str, totp_secret: str | None = None) -> Page:
    """A phone-sized browser signed in to the console as `email`, on the console's first page."""
    page = await browsers.page(f"{gateway_url}/console")
    await page.fill("#identifier", email)
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("#sign-in-submit")
    if totp_secret is not None:
        await page.wait_for_selector("#second-factor")
        await page.fill("#code", next_totp(totp_secret))
        await page.click("#second-factor-submit")
    await page.wait_for_url(f"{gateway_url}/console")
    return page


async def accessible(page: Page) -> None:
    """No axe-core violation (labels, contrast, landmarks, names) on the page as it stands."""
    results = await AXE.run(page)
    assert results.violations_count == 0, results.generate_report()


async def screenshot(browsers: Browsers, page: Page, name: str) -> None:
    """The whole page, not only the phone's first screen, saved with the test's output for review."""
    await page.screenshot(path=browsers.screenshots / f"{name}.png", full_page=True)


async def focus_order(page: Page, presses: int) -> list[str]:
    """What Tab reaches, in order: each focused element's id, else its text."""
    reached = []
    for _ in range(presses):
        await page.keyboard.press("Tab")
        reached.append(await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()"))
    return reached
