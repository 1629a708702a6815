"""Turning two-factor on or off needs proof beyond an access token; each change alerts the owner; an admin can give a
locked-out owner their account back; backup codes are kept keyed, never as a plain digest."""

import hashlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pyotp
from aiohttp.test_utils import TestClient
from pymongo import AsyncMongoClient

from documents.audit import AuditEvent, AuditKind
from documents.notification import Channel, Notification, NotificationKind
from documents.user import User
from gateway.state import SERVICES
from tests.accounts.helpers import bearer, problem_type, sign_in
from tests.conftest import TEST_DATABASE
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user

TEN_MINUTES_AGO = timedelta(minutes=10)


def _stale_token(client: TestClient, user: User, session_id: str) -> dict[str, str]:
    """An access token of a live session signed into ten minutes ago: what a thief copies off a phone."""
    token = client.app[SERVICES].tokens.issue_access(str(user.id), user.roles, session_id, auth_time=datetime.now(UTC) - TEN_MINUTES_AGO)
    return auth_header(token)


async def _alerts(user: User) -> list[str]:
    query = {"user_id": str(user.id), "kind": NotificationKind.SECURITY_ALERT.value}
    found = await Notification.find(query).sort([("_id", 1)]).to_list()
    return [notification.context["change"] for notification in found]


async def _enabled(client: TestClient, email: str) -> tuple[dict[str, Any], list[str], pyotp.TOTP]:
    signed_in = await sign_in(client, email)
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=bearer(signed_in))).json()
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = await client.post("/v1/auth/2fa/confirm", json={"code": totp.now()}, headers=bearer(signed_in))
    assert confirmed.status == 200, await confirmed.text()
    return signed_in, (await confirmed.json())["backup_codes"], totp


async def _second_step(client: TestClient, email: str, **factor: str) -> int:
    challenge = await sign_in(client, email)
    return (await client.post("/v1/auth/login/mfa", json={"mfa_token": challenge["mfa_token"], **factor})).status


async def test_a_stolen_access_token_alone_cannot_turn_two_factor_on(client: TestClient) -> None:
    user = await create_user(client.app, email="amani@example.com")
    session_id = (await sign_in(client, "amani@example.com"))["tokens"]["session_id"]
    unstamped = auth_header(access_token_for(client.app, user, session_id=session_id))
    unknown_time = await client.post("/v1/auth/2fa/enrol", headers=unstamped)
    assert unknown_time.status == 403 and await problem_type(unknown_time) == "reauthentication-required"
    stolen = _stale_token(client, user, session_id)

    bare = await client.post("/v1/auth/2fa/enrol", headers=stolen)
    guessed = await client.post("/v1/auth/2fa/enrol", json={"password": "not the password"}, headers=stolen)
    assert bare.status == guessed.status == 403
    assert await problem_type(bare) == "reauthentication-required" and await problem_type(guessed) == "wrong-password"

    enrolment = await client.post("/v1/auth/2fa/enrol", json={"password": DEFAULT_PASSWORD}, headers=stolen)
    assert enrolment.status == 200
    code = pyotp.TOTP((await enrolment.json())["secret"]).now()
    unproven = await client.post("/v1/auth/2fa/confirm", json={"code": code}, headers=stolen)
    assert unproven.status == 403 and await problem_type(unproven) == "reauthentication-required"
    confirmed = await client.post("/v1/auth/2fa/confirm", json={"code": code, "password": DEFAULT_PASSWORD}, headers=stolen)
    assert confirmed.status == 200
    assert (await User.get(user.id)).mfa_enabled  # type: ignore[union-attr]


async def test_a_fresh_sign_in_needs_no_password_and_its_refreshed_tokens_keep_its_time(client: TestClient) -> None:
    await create_user(client.app, email="baraka@example.com")
    signed_in = await sign_in(client, "baraka@example.com")

    enrolment = await client.post("/v1/auth/2fa/enrol", headers=bearer(signed_in))
    refreshed = await (await client.post("/v1/auth/refresh", json={"refresh_token": signed_in["tokens"]["refresh_token"]})).json()

    assert enrolment.status == 200
    tokens = client.app[SERVICES].tokens
    first = tokens.verify_access(signed_in["tokens"]["access_token"]).auth_time
    assert first is not None and abs(datetime.now(UTC) - first) < timedelta(minutes=1)
    assert tokens.verify_access(refreshed["access_token"]).auth_time == first, "a refresh is not a sign-in"


async def test_each_two_factor_change_alerts_the_owner_by_email(client: TestClient) -> None:
    user = await create_user(client.app, email="chiku@example.com")
    signed_in, backup_codes, _ = await _enabled(client, "chiku@example.com")

    disabled = await client.post(
        "/v1/auth/2fa/disable", json={"password": DEFAULT_PASSWORD, "backup_code": backup_codes[0]}, headers=bearer(signed_in)
    )

    assert disabled.status == 204
    assert await _alerts(user) == ["mfa_enrolment_started", "mfa_enabled", "mfa_disabled"]
    for alert in await Notification.find({"kind": NotificationKind.SECURITY_ALERT.value}).to_list():
        assert Channel.EMAIL in alert.deliveries and alert.title == "Security alert"


async def test_an_admin_resets_a_locked_out_owners_two_factor_and_signs_them_out(client: TestClient) -> None:
    owner = await create_user(client.app, email="doria@example.com")
    admin = await create_user(client.app, roles=("guest", "admin"))
    admin_headers = auth_header(access_token_for(client.app, admin))
    signed_in, _, _ = await _enabled(client, "doria@example.com")
    reset = f"/v1/admin/users/{owner.id}/2fa/reset"
    reason = "Lost phone and codes; identity checked on a video call against her ID"

    by_owner = await client.post(reset, json={"reason": reason}, headers=bearer(signed_in))
    unexplained = await client.post(reset, json={"reason": "lost"}, headers=admin_headers)
    done = await client.post(reset, json={"reason": reason}, headers=admin_headers)
    again = await client.post(reset, json={"reason": reason}, headers=admin_headers)
    own = await client.post(f"/v1/admin/users/{admin.id}/2fa/reset", json={"reason": reason}, headers=admin_headers)

    assert by_owner.status == 403 and unexplained.status == 422
    assert done.status == 200 and (await done.json())["mfa_enabled"] is False
    assert again.status == 409 and await problem_type(again) == "mfa-not-enabled"
    assert own.status == 409 and await problem_type(own) == "own-two-factor-reset"
    assert (await client.get("/v1/auth/me", headers=bearer(signed_in))).status == 401, "signed out everywhere"
    assert (await sign_in(client, "doria@example.com"))["status"] == "signed_in"
    [audited] = await AuditEvent.find({"kind": AuditKind.MFA_RESET.value}).to_list()
    assert (audited.user_id, audited.actor_id, audited.details) == (owner.id, admin.id, {"reason": reason})
    assert (await _alerts(owner))[-1] == "mfa_reset"


async def test_backup_codes_are_kept_keyed_never_as_a_plain_digest(client: TestClient, mongo: AsyncMongoClient) -> None:
    user = await create_user(client.app, email="eshe@example.com")
    _, backup_codes, _ = await _enabled(client, "eshe@example.com")

    stored = await mongo[TEST_DATABASE]["users"].find_one({"_id": user.id})
    assert stored is not None and len(stored["backup_code_hashes"]) == 10
    for code in backup_codes:
        for form in (code, code.replace("-", ""), code.upper()):
            assert hashlib.sha256(form.encode()).hexdigest() not in stored["backup_code_hashes"]
        assert len(code.replace("-", "")) == 16, "80 random bits in base32"
    assert await _second_step(client, "eshe@example.com", backup_code=backup_codes[3].upper()) == 200
    assert await _second_step(client, "eshe@example.com", backup_code=backup_codes[3]) == 401


async def test_backup_codes_made_before_they_were_keyed_still_work_once(client: TestClient, mongo: AsyncMongoClient) -> None:
    user = await create_user(client.app, email="fumo@example.com")
    await _enabled(client, "fumo@example.com")
    legacy = ["a1b2c-3d4e5", "0f9e8-d7c6b"]
    await mongo[TEST_DATABASE]["users"].update_one(
        {"_id": user.id},
        {"$set": {"backup_code_hashes": [hashlib.sha256(code.replace("-", "").encode()).hexdigest() for code in legacy]}},
    )

    assert await _second_step(client, "fumo@example.com", backup_code=legacy[0]) == 200
    assert await _second_step(client, "fumo@example.com", backup_code=legacy[0]) == 401
    stored = await mongo[TEST_DATABASE]["users"].find_one({"_id": user.id})
    assert stored is not None and len(stored["backup_code_hashes"]) == 1
