"""TOTP secrets at rest: sealed in the database, bound to their account, and sealed for accounts enrolled before."""

import secrets

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import SecretStr
from pymongo import AsyncMongoClient

from documents.user import User
from gateway.app import create_app
from gateway.migrations import m0002_seal_totp_secrets
from gateway.reseal import reseal_outdated_secrets
from gateway.settings import Settings
from tests.accounts.helpers import bearer, next_totp, sign_in, turn_on_two_factor
from tests.conftest import TEST_DATABASE
from tests.factories import create_user, settings_with


async def _mfa_sign_in(client: TestClient, email: str, secret: str) -> int:
    code = next_totp(secret)
    challenge = await sign_in(client, email)
    answer = await client.post("/v1/auth/login/mfa", json={"mfa_token": challenge["mfa_token"], "code": code})
    return answer.status


async def _stored(mongo: AsyncMongoClient, user: User) -> dict:  # type: ignore[type-arg]
    return await mongo[TEST_DATABASE][User.Settings.name].find_one({"_id": user.id})  # type: ignore[return-value]


async def test_the_database_never_holds_the_secret_the_phone_was_given(
    client: TestClient, app: web.Application, mongo: AsyncMongoClient
) -> None:
    user = await create_user(app, email="amani@example.com")
    signed_in = await sign_in(client, "amani@example.com")
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=bearer(signed_in))).json()
    assert enrolment["secret"] not in str(await _stored(mongo, user)), "the pending secret is stored as given"
    code = pyotp.TOTP(enrolment["secret"]).now()
    assert (await client.post("/v1/auth/2fa/confirm", json={"code": code}, headers=bearer(signed_in))).status == 200

    assert enrolment["secret"] not in str(await _stored(mongo, user)), "the enabled secret is stored as given"
    assert await _mfa_sign_in(client, "amani@example.com", enrolment["secret"]) == 200


async def test_a_sealed_secret_copied_onto_another_account_does_not_let_its_codes_in(
    client: TestClient, app: web.Application, mongo: AsyncMongoClient
) -> None:
    await create_user(app, email="owner@example.com")
    intruder = await create_user(app, email="intruder@example.com")
    secret = await turn_on_two_factor(client, "owner@example.com")
    await turn_on_two_factor(client, "intruder@example.com")
    users = mongo[TEST_DATABASE][User.Settings.name]
    owners_sealed = (await users.find_one({"email": "owner@example.com"}))["totp_secret"]  # type: ignore[index]
    await users.update_one({"_id": intruder.id}, {"$set": {"totp_secret": owners_sealed}})

    assert await _mfa_sign_in(client, "intruder@example.com", secret) == 500


async def test_secrets_enrolled_before_sealing_are_sealed_by_the_migration_and_keep_working(
    client: TestClient, app: web.Application, mongo: AsyncMongoClient, settings: Settings
) -> None:
    user = await create_user(app, email="early@example.com")
    secret = pyotp.random_base32()
    users = mongo[TEST_DATABASE][User.Settings.name]
    await users.update_one({"_id": user.id}, {"$set": {"totp_secret": secret, "totp_last_step": 0}})

    await m0002_seal_totp_secrets.up(mongo[TEST_DATABASE], settings)
    sealed = (await _stored(mongo, user))["totp_secret"]
    await m0002_seal_totp_secrets.up(mongo[TEST_DATABASE], settings)

    assert secret not in sealed and (await _stored(mongo, user))["totp_secret"] == sealed, "sealed once, then left alone"
    assert await _mfa_sign_in(client, "early@example.com", secret) == 200


async def test_a_secret_stored_in_plaintext_by_the_previous_release_signs_in_and_is_sealed_by_it(
    client: TestClient, app: web.Application, mongo: AsyncMongoClient
) -> None:
    user = await create_user(app, email="rolling@example.com")
    secret = pyotp.random_base32()
    await mongo[TEST_DATABASE][User.Settings.name].update_one({"_id": user.id}, {"$set": {"totp_secret": secret}})

    assert await _mfa_sign_in(client, "rolling@example.com", secret) == 200

    assert secret not in (await _stored(mongo, user))["totp_secret"]
    await mongo[TEST_DATABASE][User.Settings.name].update_one({"_id": user.id}, {"$set": {"totp_last_step": 0}})
    assert await _mfa_sign_in(client, "rolling@example.com", secret) == 200, "the sealed secret opens"


def _with_keys(settings: Settings, current: str, previous: tuple[str, ...] = ()) -> Settings:
    return settings_with(
        settings, "auth",
        totp_encryption_key=SecretStr(current), totp_previous_encryption_keys=[SecretStr(key) for key in previous],
    )  # fmt: skip


async def test_authenticators_outlive_a_key_rotation_and_migrate_reseals_the_secrets(
    aiohttp_client, settings: Settings, mongo: AsyncMongoClient  # type: ignore[no-untyped-def]
) -> None:
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    before: TestClient = await aiohttp_client(create_app(_with_keys(settings, old)))
    enrolled = {}
    for email in ("signs-in@example.com", "stays-away@example.com"):
        await create_user(before.app, email=email)
        enrolled[email] = await turn_on_two_factor(before, email)

    rotating = _with_keys(settings, new, (old,))
    during: TestClient = await aiohttp_client(create_app(rotating))
    assert await _mfa_sign_in(during, "signs-in@example.com", enrolled["signs-in@example.com"]) == 200
    # That sign-in sealed its secret again; the migration seals the other one.
    assert await reseal_outdated_secrets(mongo[TEST_DATABASE], rotating) == {"totp_secrets": 1, "event_keys": 0}

    after: TestClient = await aiohttp_client(create_app(_with_keys(settings, new)))
    await mongo[TEST_DATABASE][User.Settings.name].update_many({}, {"$set": {"totp_last_step": 0}})
    for email, secret in enrolled.items():
        assert await _mfa_sign_in(after, email, secret) == 200, f"{email} locked out once the old key left"
