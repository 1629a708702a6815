"""Profiles: edited with validation, a public face without contact points, and a new email or phone proven by code."""

from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from tests.accounts.helpers import code_sent_to, messages_to, sign_in
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user
from tests.properties.builders import problem_type, ready_photo, signed_in


async def _me(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/v1/me/profile", headers=headers)
    assert response.status == 200, await response.text()
    return await response.json()


async def test_a_profile_is_edited_and_others_see_only_its_public_part(client: TestClient) -> None:
    user_id, headers = await signed_in(client)
    photo_id = await ready_photo(user_id)
    changed = await client.patch(
        "/v1/me/profile",
        json={
            "display_name": "Wanjiku",
            "photo_id": photo_id,
            "bio": "Nairobi born,\nlikes hiking.",
            "languages": ["sw", "en", "sw"],
        },
        headers=headers,
    )
    assert changed.status == 200, await changed.text()
    mine = await changed.json()
    assert mine["display_name"] == "Wanjiku" and mine["bio"] == "Nairobi born,\nlikes hiking."
    assert mine["languages"] == ["sw", "en"] and mine["photo"]["id"] == photo_id and mine["email"]

    # Only the fields sent change; null clears the bio.
    await client.patch("/v1/me/profile", json={"bio": None}, headers=headers)
    assert (await _me(client, headers))["bio"] is None and (await _me(client, headers))["display_name"] == "Wanjiku"

    _, viewer = await signed_in(client)
    public = await client.get(f"/v1/users/{user_id}/profile", headers=viewer)
    assert public.status == 200, await public.text()
    shown = await public.json()
    assert set(shown) == {"user_id", "display_name", "photo", "languages", "member_since", "badges", "rating"}
    assert shown["badges"] == ["email_verified"] and shown["rating"] == {"count": 0, "average": None}
    # Another person's photo: thumbnails only, never the original with its metadata.
    assert shown["photo"]["url"] is None
    assert (await client.get(f"/v1/users/{'0' * 24}/profile", headers=viewer)).status == 404
    assert (await client.get(f"/v1/users/{user_id}/profile")).status == 401


@pytest.mark.parametrize(
    "body",
    [
        {"display_name": ""},
        {"display_name": "x" * 51},
        {"display_name": "evil\u202eexe.png"},
        {"bio": "b" * 501},
        {"languages": ["english"]},
        {"languages": ["sw"] * 11},
        {"photo_id": "not-a-file"},
        {"email": "a@example.com"},
    ],
)
async def test_bad_profile_fields_are_refused(client: TestClient, body: dict[str, Any]) -> None:
    _, headers = await signed_in(client)
    refused = await client.patch("/v1/me/profile", json=body, headers=headers)
    assert refused.status == 422 and await problem_type(refused) == "validation-error"


async def test_a_photo_must_be_a_ready_photo_of_ones_own(client: TestClient) -> None:
    _, headers = await signed_in(client)
    other_id, _ = await signed_in(client)
    theirs = await client.patch("/v1/me/profile", json={"photo_id": await ready_photo(other_id)}, headers=headers)
    assert theirs.status == 404 and await problem_type(theirs) == "file-not-found"


async def test_a_new_email_needs_the_password_and_its_code_and_the_old_one_is_told(client: TestClient) -> None:
    user = await create_user(client.app, email="old@example.com")
    headers = auth_header(access_token_for(client.app, user))
    wrong = await client.post(
        "/v1/me/contact", json={"email": "new@example.com", "current_password": "nope"}, headers=headers
    )
    assert wrong.status == 403 and await problem_type(wrong) == "wrong-password"
    same = await client.post(
        "/v1/me/contact", json={"email": "OLD@example.com", "current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert same.status == 409 and await problem_type(same) == "contact-unchanged"

    asked = await client.post(
        "/v1/me/contact", json={"email": "New@Example.com", "current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert asked.status == 202, await asked.text()
    code = await code_sent_to(client, "new@example.com")
    assert (await User.get(user.id)).email == "old@example.com"  # type: ignore[union-attr]
    # A code for a change is not a code for verifying: the purposes are apart.
    assert (
        await client.post("/v1/auth/otp/verify", json={"channel": "email", "code": code}, headers=headers)
    ).status == 410

    confirmed = await client.post("/v1/me/contact/confirm", json={"channel": "email", "code": code}, headers=headers)
    assert confirmed.status == 204, await confirmed.text()
    stored = await User.get(user.id)
    assert stored.email == "new@example.com" and stored.email_verified_at is not None  # type: ignore[union-attr]
    await sign_in(client, "new@example.com")
    assert (
        await client.post("/v1/auth/login", json={"email": "old@example.com", "password": DEFAULT_PASSWORD})
    ).status == 401
    alert = [entry for entry in await messages_to(client, "old@example.com") if entry["kind"] == "security_alert"]
    assert len(alert) == 1 and "changed" in alert[0]["text"]
    audited = await AuditEvent.find({"kind": AuditKind.EMAIL_CHANGED.value, "user_id": user.id}).to_list()
    assert [event.details["new"] for event in audited] == ["new@example.com"]
    replay = await client.post("/v1/me/contact/confirm", json={"channel": "email", "code": code}, headers=headers)
    assert replay.status == 410


async def test_a_new_phone_taken_meanwhile_is_a_conflict_and_changes_nothing(client: TestClient) -> None:
    user = await create_user(client.app, phone="+254700000001")
    headers = auth_header(access_token_for(client.app, user))
    asked = await client.post(
        "/v1/me/contact", json={"phone": "0712 000 002", "current_password": DEFAULT_PASSWORD}, headers=headers
    )
    assert asked.status == 202, await asked.text()
    code = await code_sent_to(client, "+254712000002")
    await create_user(client.app, phone="+254712000002")
    taken = await client.post("/v1/me/contact/confirm", json={"channel": "sms", "code": code}, headers=headers)
    assert taken.status == 409 and await problem_type(taken) == "contact-taken"
    assert (await User.get(user.id)).phone == "+254700000001"  # type: ignore[union-attr]
    assert not [entry for entry in await messages_to(client, "+254700000001") if entry["kind"] == "security_alert"]


async def test_contact_changes_are_rate_limited(client: TestClient) -> None:
    _, headers = await signed_in(client)
    statuses = [
        (
            await client.post(
                "/v1/me/contact",
                json={"email": f"n{n}@example.com", "current_password": DEFAULT_PASSWORD},
                headers=headers,
            )
        ).status
        for n in range(6)
    ]
    assert statuses == [202] * 5 + [429]
