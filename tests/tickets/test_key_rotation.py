"""Rotating the key that seals events' signing keys: tickets go on being issued, emailed QR links keep working
while the previous key is configured, and `lango migrate` seals every event key again with the new one."""

import secrets

from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from gateway.app import create_app
from gateway.reseal import reseal_outdated_secrets
from gateway.settings import Settings
from gateway.state import SERVICES
from gateway.tickets.qr import qr_link_key
from tests.conftest import TEST_DATABASE
from tests.factories import settings_with
from tests.tickets.builders import event_on_sale, paid_tickets, ticket_doc


def _with_keys(settings: Settings, current: str, previous: tuple[str, ...] = ()) -> Settings:
    return settings_with(
        settings, "tickets",
        key_encryption_key=SecretStr(current), previous_key_encryption_keys=[SecretStr(key) for key in previous],
    )  # fmt: skip


async def test_tickets_and_links_outlive_a_key_rotation_and_migrate_reseals_the_event_keys(
    aiohttp_client, settings: Settings, mongo: AsyncMongoClient  # type: ignore[no-untyped-def]
) -> None:
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    before: TestClient = await aiohttp_client(create_app(_with_keys(settings, old)))
    sale = await event_on_sale(before)
    ticket = await ticket_doc((await paid_tickets(before, sale, 1))[0]["id"])
    emailed_link = f"/v1/tickets/{ticket.id}/qr.png?key={qr_link_key(before.app[SERVICES], ticket)}"

    rotating = _with_keys(settings, new, (old,))
    during: TestClient = await aiohttp_client(create_app(rotating))
    assert len(await paid_tickets(during, sale, 1)) == 1, "the event's key, sealed with the old key, still signs"
    assert (await during.get(emailed_link)).status == 200, "a link emailed before the rotation still opens"

    assert await reseal_outdated_secrets(mongo[TEST_DATABASE], rotating) == {"totp_secrets": 0, "event_keys": 1}
    assert await reseal_outdated_secrets(mongo[TEST_DATABASE], rotating) == {"totp_secrets": 0, "event_keys": 0}

    after: TestClient = await aiohttp_client(create_app(_with_keys(settings, new)))
    assert len(await paid_tickets(after, sale, 1)) == 1, "with the old key gone, the re-sealed event key signs"
    assert (await after.get(emailed_link)).status == 404, "the old key's links end with the old key"
    assert (await after.get(f"/v1/tickets/{ticket.id}/qr.png?key={qr_link_key(after.app[SERVICES], ticket)}")).status == 200
