"""Rate limits, lockout and code attempts: repeated guessing is stopped, with a Retry-After the client can honour,
without telling anyone whether an account exists and without letting anyone lock the owner out."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pyotp
from aiohttp import web
from aiohttp.test_utils import TestClient
from redis.asyncio import Redis

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.app import create_app
from gateway.settings import Settings
from tests.accounts.helpers import PROBLEM, bearer, code_sent_to, problem_type, sign_in, totp_now
from tests.factories import DEFAULT_PASSWORD, access_token_for, auth_header, create_user

WRONG = {"email": "faraji@example.com", "password": "not the password at all"}
RIGHT = {**WRONG, "password": DEFAULT_PASSWORD}


def _app(settings: Settings, **sections: dict) -> web.Application:
    update = {name: getattr(settings, name).model_copy(update=values) for name, values in sections.items()}
    return create_app(settings.model_copy(update=update), run_worker=True)


async def _answer(response: Any) -> tuple[int, str, str]:
    """What an answer tells a client: status, problem type and detail."""
    body = await response.json(content_type=PROBLEM)
    return response.status, body["type"], body.get("detail", "")


async def _forget_windows(redis: Redis, settings: Settings) -> None:
    """As if the limits' windows had passed: their counts in Redis are gone."""
    async for key in redis.scan_iter(match=f"{settings.redis.namespace}:limits*"):
        await redis.delete(key)


async def test_the_wrong_password_after_the_allowed_failures_is_a_429_with_retry_after(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, rate_limits={"login_failures_per_account": "3/15 minutes"}))
    await create_user(client.app, email="faraji@example.com")
    for _ in range(3):
        failed = await client.post("/v1/auth/login", json=WRONG)
        assert failed.status == 401 and await problem_type(failed) == "invalid-credentials"
    limited = await client.post("/v1/auth/login", json=WRONG)
    assert limited.status == 429
    assert await problem_type(limited) == "account-locked"
    assert 0 < int(limited.headers["Retry-After"]) <= 900
    # The right password is refused too while the window is full: the limit guards the account, not the guess.
    assert (await client.post("/v1/auth/login", json=RIGHT)).status == 429
    failures = await AuditEvent.find({"kind": AuditKind.LOGIN_FAILED.value}).count()
    assert failures == 3
    assert await AuditEvent.find({"kind": AuditKind.ACCOUNT_LOCKED.value}).count() == 1


async def test_unknown_accounts_are_limited_like_known_ones(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, rate_limits={"login_failures_per_account": "2/15 minutes"}))
    answers = [(await client.post("/v1/auth/login", json={**WRONG, "email": "nobody@example.com"})).status for _ in range(3)]
    assert answers == [401, 401, 429]


async def test_one_address_guessing_across_accounts_is_stopped_while_others_sign_in(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    app = _app(settings, rate_limits={"login_attempts_per_address": "4/15 minutes"}, server={"trusted_proxies": ["127.0.0.1"]})
    client = await aiohttp_client(app)
    await create_user(client.app, email="faraji@example.com")
    sprayer = {"X-Forwarded-For": "203.0.113.7"}

    # One common password tried once on each of many accounts: no account's own budget ever fills.
    sprayed = await asyncio.gather(*(
        client.post("/v1/auth/login", json={**WRONG, "email": f"user{n}@example.com"}, headers=sprayer) for n in range(10)
    ))  # fmt: skip

    statuses = [answer.status for answer in sprayed]
    assert statuses.count(401) == 4 and statuses.count(429) == 6, statuses
    refused = next(answer for answer in sprayed if answer.status == 429)
    assert await problem_type(refused) == "rate-limited" and int(refused.headers["Retry-After"]) > 0
    assert (await client.post("/v1/auth/login", json=RIGHT, headers=sprayer)).status == 429
    owner = await client.post("/v1/auth/login", json=RIGHT, headers={"X-Forwarded-For": "198.51.100.20"})
    assert owner.status == 200, await owner.text()


async def test_concurrent_guesses_are_counted_before_the_password_is_checked(client: TestClient) -> None:
    await create_user(client.app, email="faraji@example.com")

    answers = await asyncio.gather(*(client.post("/v1/auth/login", json=WRONG) for _ in range(40)))

    statuses = [answer.status for answer in answers]
    # The default window lets 5 failures through in 15 minutes, however many guesses arrive at once.
    assert statuses.count(401) == 5 and statuses.count(429) == 35, statuses
    assert await AuditEvent.find({"kind": AuditKind.LOGIN_FAILED.value}).count() == 5


async def test_a_locked_account_answers_alike_whatever_the_password_and_whether_it_exists(
    client: TestClient, redis: Redis, settings: Settings
) -> None:
    await create_user(client.app, email="faraji@example.com")
    nobody = {**WRONG, "email": "nobody@example.com"}
    await asyncio.gather(*(client.post("/v1/auth/login", json=guess) for guess in [WRONG, nobody] * 20))

    right, wrong, unknown = [await client.post("/v1/auth/login", json=body) for body in (RIGHT, WRONG, nobody)]

    assert await _answer(right) == await _answer(wrong) == await _answer(unknown)
    assert right.status == 429 and await problem_type(right) == "account-locked"
    assert {answer.headers["Retry-After"] for answer in (right, wrong, unknown)} <= {"899", "900"}
    # Once the windows have passed, the right password signs in: no lock outlasts them to answer it differently.
    await _forget_windows(redis, settings)
    assert (await client.post("/v1/auth/login", json=WRONG)).status == 401
    assert (await client.post("/v1/auth/login", json=RIGHT)).status == 200


async def test_a_known_device_signs_in_while_guesses_from_elsewhere_lock_the_account(client: TestClient) -> None:
    owner = await create_user(client.app, email="faraji@example.com")
    phone = await sign_in(client, "faraji@example.com")
    stranger = await sign_in(client, (await create_user(client.app)).email)  # type: ignore[arg-type]

    flood = await asyncio.gather(*(client.post("/v1/auth/login", json=WRONG) for _ in range(30)))
    assert {answer.status for answer in flood} == {401, 429}

    assert (await client.post("/v1/auth/login", json=RIGHT)).status == 429
    # Another account's device token, or a made-up one, makes no device known here.
    for token in (stranger["device_token"], "not-a-device-token"):
        assert (await client.post("/v1/auth/login", json={**RIGHT, "device_token": token})).status == 429
    again = await client.post("/v1/auth/login", json={**RIGHT, "device_token": phone["device_token"]})
    assert again.status == 200, await again.text()
    assert (await again.json())["account"]["id"] == str(owner.id)
    # The device's own budget is separate: the owner's typos there do not touch the account's, nor the reverse.
    typo = await client.post("/v1/auth/login", json={**WRONG, "device_token": phone["device_token"]})
    assert typo.status == 401


async def test_a_password_reset_unlocks_a_new_device_of_the_owner(client: TestClient) -> None:
    await create_user(client.app, email="faraji@example.com")
    await asyncio.gather(*(client.post("/v1/auth/login", json=WRONG) for _ in range(10)))
    assert (await client.post("/v1/auth/login", json=RIGHT)).status == 429

    assert (await client.post("/v1/auth/password/reset", json={"email": "faraji@example.com"})).status == 202
    code = await code_sent_to(client, "faraji@example.com")
    reset = await client.post(
        "/v1/auth/password/reset/confirm", json={"email": "faraji@example.com", "code": code, "new_password": "kahawa chungu asubuhi"}
    )
    assert reset.status == 200, await reset.text()
    # Guessing goes on, yet the device that proved the code signs in.
    await asyncio.gather(*(client.post("/v1/auth/login", json=WRONG) for _ in range(10)))
    fresh = {"email": "faraji@example.com", "password": "kahawa chungu asubuhi"}
    assert (await client.post("/v1/auth/login", json=fresh)).status == 429
    signed_in = await client.post("/v1/auth/login", json={**fresh, "device_token": (await reset.json())["device_token"]})
    assert signed_in.status == 200, await signed_in.text()


async def test_wrong_reset_codes_spend_neither_the_two_factor_nor_the_verification_budget(client: TestClient) -> None:
    user = await create_user(client.app, email="gathoni@example.com", phone="0722000111", verified=False)
    first = await sign_in(client, "gathoni@example.com")
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=bearer(first))).json()
    assert (await client.post("/v1/auth/2fa/confirm", json={"code": totp_now(enrolment["secret"])}, headers=bearer(first))).status == 200

    wrong_reset = {"email": "gathoni@example.com", "code": "000000", "new_password": "kahawa chungu asubuhi"}
    answers = [(await client.post("/v1/auth/password/reset/confirm", json=wrong_reset)).status for _ in range(11)]
    assert answers == [400] * 10 + [429]

    # The owner's second factor still has its own budget. (The current step was spent confirming enrolment; a
    # phone a little ahead already shows the next one.)
    second = await sign_in(client, "gathoni@example.com")
    totp = pyotp.TOTP(enrolment["secret"])
    next_code = totp.generate_otp(totp.timecode(datetime.now(UTC)) + 1)
    mfa = await client.post("/v1/auth/login/mfa", json={"mfa_token": second["mfa_token"], "code": next_code})
    assert mfa.status == 200, await mfa.text()
    # And so does verifying the phone.
    headers = auth_header(access_token_for(client.app, user))
    assert (await client.post("/v1/auth/otp/send", json={"channel": "sms"}, headers=headers)).status == 202
    code = await code_sent_to(client, "+254722000111")
    assert (await client.post("/v1/auth/otp/verify", json={"channel": "sms", "code": code}, headers=headers)).status == 204


async def test_a_code_tried_wrong_five_times_is_dead(client: TestClient) -> None:
    user = await create_user(client.app, email="gathoni@example.com", verified=False)
    headers = auth_header(access_token_for(client.app, user))
    assert (await client.post("/v1/auth/otp/send", json={"channel": "email"}, headers=headers)).status == 202
    code = await code_sent_to(client, "gathoni@example.com")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = await client.post("/v1/auth/otp/verify", json={"channel": "email", "code": wrong}, headers=headers)
        assert answer.status == 400 and await problem_type(answer) == "otp-invalid"
    dead = await client.post("/v1/auth/otp/verify", json={"channel": "email", "code": code}, headers=headers)
    assert dead.status == 410 and await problem_type(dead) == "otp-expired"
    assert (await User.get(user.id)).email_verified_at is None  # type: ignore[union-attr]


async def test_a_new_code_waits_for_the_cooldown(client: TestClient) -> None:
    user = await create_user(client.app, phone="0722000111", verified=False)
    headers = auth_header(access_token_for(client.app, user))
    assert (await client.post("/v1/auth/otp/send", json={"channel": "sms"}, headers=headers)).status == 202
    again = await client.post("/v1/auth/otp/send", json={"channel": "sms"}, headers=headers)
    assert again.status == 429 and await problem_type(again) == "otp-cooldown"
    assert int(again.headers["Retry-After"]) >= 1
    code = await code_sent_to(client, "+254722000111")
    assert (await client.post("/v1/auth/otp/verify", json={"channel": "sms", "code": code}, headers=headers)).status == 204
    reused = await client.post("/v1/auth/otp/verify", json={"channel": "sms", "code": code}, headers=headers)
    assert reused.status == 410


async def test_password_reset_by_sms_code_signs_out_everywhere(client: TestClient) -> None:
    await create_user(client.app, phone="+254733444555")
    before = await client.post("/v1/auth/login", json={"phone": "0733 444 555", "password": "correct horse battery staple"})
    old = await before.json()
    assert (await client.post("/v1/auth/password/reset", json={"phone": "254733444555"})).status == 202
    assert (await client.post("/v1/auth/password/reset", json={"email": "nobody@example.com"})).status == 202
    code = await code_sent_to(client, "+254733444555")
    reset = await client.post(
        "/v1/auth/password/reset/confirm", json={"phone": "0733444555", "code": code, "new_password": "kahawa chungu asubuhi"}
    )
    assert reset.status == 200
    assert (await client.get("/v1/auth/me", headers=auth_header(old["tokens"]["access_token"]))).status == 401
    after = await client.post("/v1/auth/login", json={"phone": "+254733444555", "password": "kahawa chungu asubuhi"})
    assert after.status == 200
