"""What door staff do in the scanner, as test steps: sign in, choose the door, read the answers."""

from playwright.async_api import Page

from tests.factories import DEFAULT_PASSWORD


async def sign_in(page: Page, email: str) -> None:
    await page.fill("#identifier", email)
    await page.fill("#password", DEFAULT_PASSWORD)
    await page.click("#signin-submit")


async def choose_door(page: Page, email: str, gate: str = "North", event_id: str | None = None) -> None:
    """Signed in, the event (the first listed unless given) and the gate filled in; Start scanning not yet tapped."""
    await sign_in(page, email)
    await page.wait_for_selector("#setup:not([hidden])")
    if event_id is not None:
        await page.select_option("#event", event_id)
    await page.fill("#gate", gate)


async def open_door(page: Page, email: str, gate: str = "North") -> None:
    """The scanner signed in and scanning at `gate` of the first event the account keeps the door of."""
    await choose_door(page, email, gate)
    await page.click("#setup-submit")


async def answer(page: Page, colour: str) -> str:
    """The text of the next full-screen answer of that colour."""
    shown = await page.wait_for_selector(f"#answer.{colour}:not([hidden])", timeout=15_000)
    return await shown.inner_text()


async def dismiss(page: Page) -> None:
    """Tap the answer away, as door staff do, to see the scanner behind it."""
    if await page.is_visible("#answer"):
        await page.click("#answer")


async def results(page: Page) -> list[tuple[str, str]]:
    """The recent scans, oldest first, as (result, offline)."""
    items = await page.eval_on_selector_all("#recent li", "items => items.map(item => [item.dataset.result, item.dataset.offline])")
    return [tuple(item) for item in reversed(items)]


async def typed(page: Page, code: str) -> str:
    """The answer to a ticket code typed in by hand, as "colour: text", then tapped away."""
    await page.fill("#manual-code", code)
    await page.click("#manual-check")
    shown = await page.wait_for_selector("#answer:not([hidden])")
    text = await shown.inner_text()
    await page.click("#answer")
    return f"{await shown.get_attribute('class')}: {text}"
