"""Consent: marketing needs an opt-in to the current wording, kept with its time and version, and only promotions
wait for it."""

from typing import Any

from aiohttp.test_utils import TestClient

from documents.broadcast import Broadcast
from documents.marketing_consent import MarketingConsent
from documents.notification import Notification, NotificationKind
from gateway.notifications.broadcasts import send_broadcast_batch
from gateway.settings import Settings
from gateway.state import SERVICES
from tests.accounts.helpers import problem_type
from tests.properties.builders import signed_in

OFFER = {"title": "Half-price nights in Diani", "message": "This weekend only, at listings that take part."}


async def test_an_opt_in_names_the_current_wording_and_is_kept_with_its_time(
    client: TestClient, settings: Settings
) -> None:
    user_id, headers = await signed_in(client)
    current = settings.privacy.marketing_wording_version

    before = await (await client.get("/v1/me/marketing", headers=headers)).json()
    outdated = await client.put(
        "/v1/me/marketing", headers=headers, json={"granted": True, "wording_version": "2019-01"}
    )
    granted = await client.put("/v1/me/marketing", headers=headers, json={"granted": True, "wording_version": current})
    withdrawn = await client.put(
        "/v1/me/marketing", headers=headers, json={"granted": False, "wording_version": "2019-01"}
    )
    unknown_field = await client.put(
        "/v1/me/marketing", headers=headers, json={"granted": True, "wording_version": current, "x": 1}
    )

    assert before == {"granted": False, "wording_version": None, "changed_at": None, "current_wording_version": current}
    assert outdated.status == 409 and await problem_type(outdated) == "consent-wording-outdated"
    assert (await granted.json())["granted"] is True and (await granted.json())["wording_version"] == current
    assert (await withdrawn.json())["granted"] is False
    assert unknown_field.status == 422
    consent = await MarketingConsent.of(user_id)
    assert [(change.granted, change.wording_version) for change in consent.history] == [
        (True, current),
        (False, "2019-01"),
    ]
    assert consent.history[0].at <= consent.history[1].at


async def test_a_promotion_reaches_only_those_who_opted_in_and_an_announcement_reaches_all(
    client: TestClient, settings: Settings
) -> None:
    _, admin = await signed_in(client, "admin")
    agreed, agreed_headers = await signed_in(client, "agent")
    silent, _ = await signed_in(client, "agent")
    await client.put("/v1/me/marketing", headers=agreed_headers,
                     json={"granted": True, "wording_version": settings.privacy.marketing_wording_version})  # fmt: skip

    sent: dict[str, Any] = {}
    for marketing in (True, False):
        started = await client.post(
            "/v1/admin/broadcasts",
            headers=admin,
            json={"audience": {"kind": "role", "value": "agent"}, **OFFER, "marketing": marketing},
        )
        assert started.status == 202, await started.text()
        broadcast_id = (await started.json())["id"]
        await send_broadcast_batch({"services": client.app[SERVICES]}, broadcast_id=broadcast_id, after=None)
        reached = await Notification.find(
            {"kind": NotificationKind.BROADCAST, "data.broadcast_id": broadcast_id}
        ).to_list()
        sent[str(marketing)] = sorted(notification.user_id for notification in reached)

    assert sent == {"True": [agreed], "False": sorted([agreed, silent])}
    assert (await Broadcast.find_one({"marketing": True})) is not None
