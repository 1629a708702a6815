"""Rate limits, lockout and code attempts: repeated guessing is stopped, with a Retry-After the client can honour."""

from aiohttp import web
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from gateway.app import create_app
from gateway.settings import Settings
from tests.accounts.helpers import code_sent_to, problem_type
from tests.factories import access_token_for, auth_header, create_user

WRONG = {"email": "faraji@example.com", "password": "not the password at all"}


def _app(settings: Settings, **sections: dict) -> web.Application:
    update = {name: getattr(settings, name).model_copy(update=values) for name, values in sections.items()}
    return create_app(settings.model_copy(update=update))


async def test_the_wrong_password_after_the_allowed_failures_is_a_429_with_retry_after(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, rate_limits={"login_failures_per_account": "3/15 minutes"}))
    await create_user(client.app, email="faraji@example.com")
    for _ in range(3):
        failed = await client.post("/v1/auth/login", json=WRONG)
        assert failed.status == 401 and await problem_type(failed) == "invalid-credentials"
    limited = await client.post("/v1/auth/login", json=WRONG)
    assert limited.status == 429
    assert await problem_type(limited) == "rate-limited"
    assert 0 < int(limited.headers["Retry-After"]) <= 900
    # The right password is refused too while the window is full: the limit guards the account, not the guess.
    assert (await client.post("/v1/auth/login", json={**WRONG, "password": "correct horse battery staple"})).status == 429
    failures = await AuditEvent.find({"kind": AuditKind.LOGIN_FAILED.value}).count()
    assert failures == 3


async def test_unknown_accounts_are_limited_like_known_ones(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, rate_limits={"login_failures_per_account": "2/15 minutes"}))
    answers = [(await client.post("/v1/auth/login", json={**WRONG, "email": "nobody@example.com"})).status for _ in range(3)]
    assert answers == [401, 401, 429]


async def test_repeated_failures_lock_the_account_for_a_growing_period(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(
        _app(settings, auth={"lockout_after_failures": 3, "lockout_base_s": 60}, rate_limits={"login_failures_per_account": "100/minute"})
    )
    user = await create_user(client.app, email="faraji@example.com")
    for _ in range(3):
        await client.post("/v1/auth/login", json=WRONG)
    locked = await client.post("/v1/auth/login", json={**WRONG, "password": "correct horse battery staple"})
    assert locked.status == 429 and await problem_type(locked) == "account-locked"
    assert 50 <= int(locked.headers["Retry-After"]) <= 61
    first_lock = (await User.get(user.id)).locked_until  # type: ignore[union-attr]
    for _ in range(3):
        await client.post("/v1/auth/login", json=WRONG)
    second_lock = (await User.get(user.id)).locked_until  # type: ignore[union-attr]
    assert (second_lock - first_lock).total_seconds() > 50  # type: ignore[operator]
    assert await AuditEvent.find({"kind": AuditKind.ACCOUNT_LOCKED.value}).count() == 2


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
    assert reset.status == 204
    assert (await client.get("/v1/auth/me", headers=auth_header(old["tokens"]["access_token"]))).status == 401
    after = await client.post("/v1/auth/login", json={"phone": "+254733444555", "password": "kahawa chungu asubuhi"})
    assert after.status == 200
