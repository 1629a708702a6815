"""Signing up in two steps, and asking for a password reset: answered alike whether or not an address has an account,
confirmed only by whoever holds the codes, limited per address and overall, and never a free way to send SMS."""

import asyncio

from aiohttp import web
from aiohttp.test_utils import TestClient

from documents.notification import Notification, NotificationKind
from documents.otp import OneTimeCode
from documents.pending_signup import PendingSignup
from documents.user import User
from gateway.accounts.codes import send_password_reset_code
from gateway.app import create_app
from gateway.settings import Settings
from gateway.state import SERVICES
from providers.outbox import list_outbox
from tests.accounts.helpers import PROBLEM, code_sent_to, message_to, messages_to, problem_type, sign_in
from tests.factories import DEFAULT_PASSWORD, create_user

PASSWORD = "mvua ya masika 2025"


def _app(settings: Settings, **limits: str) -> web.Application:
    return create_app(settings.model_copy(update={"rate_limits": settings.rate_limits.model_copy(update=limits)}), run_worker=True)


async def test_a_sign_up_is_answered_alike_whether_or_not_the_address_has_an_account(client: TestClient) -> None:
    owner = await create_user(client.app, email="hawa@example.com")

    new = await client.post("/v1/auth/signup", json={"email": "baraka@example.com", "password": PASSWORD})
    taken = await client.post("/v1/auth/signup", json={"email": "HAWA@example.com", "password": PASSWORD})

    assert (new.status, await new.read()) == (taken.status, await taken.read()) == (202, b"")
    assert new.headers.keys() == taken.headers.keys()
    # The owner is told someone tried, and gets no code that would open a second account.
    notice = await message_to(client, "hawa@example.com", "signup_attempt")
    assert "sign in" in notice["text"]
    assert [entry["kind"] for entry in await messages_to(client, "hawa@example.com")] == ["signup_attempt"]
    assert await Notification.find({"user_id": str(owner.id), "kind": NotificationKind.SIGNUP_ATTEMPT}).count() == 1
    guessed = await client.post("/v1/auth/signup/confirm", json={"email": "hawa@example.com", "email_code": "123456"})
    assert guessed.status == 400 and await problem_type(guessed) == "otp-invalid"
    assert await User.find({"email": "hawa@example.com"}).count() == 1

    code = await code_sent_to(client, "baraka@example.com")
    assert await User.find({"email": "baraka@example.com"}).count() == 0, "no account before the code comes back"
    confirmed = await client.post("/v1/auth/signup/confirm", json={"email": "baraka@example.com", "email_code": code, "device": "Tecno"})
    assert confirmed.status == 201, await confirmed.text()
    body = await confirmed.json()
    assert body["account"]["email"] == "baraka@example.com" and body["account"]["email_verified"]
    assert body["tokens"]["access_token"] and body["device_token"]
    assert (await sign_in(client, "baraka@example.com", PASSWORD))["status"] == "signed_in"
    # A sign-up is used once.
    replayed = await client.post("/v1/auth/signup/confirm", json={"email": "baraka@example.com", "email_code": code})
    assert replayed.status == 410 and await problem_type(replayed) == "otp-expired"


async def test_a_second_sign_up_for_an_address_replaces_the_first(client: TestClient) -> None:
    assert (await client.post("/v1/auth/signup", json={"email": "squat@example.com", "password": PASSWORD})).status == 202
    squatter_code = await code_sent_to(client, "squat@example.com")
    assert (await client.post("/v1/auth/signup", json={"email": "squat@example.com", "password": DEFAULT_PASSWORD})).status == 202
    owner_code = await code_sent_to(client, "squat@example.com", after=1)
    assert await PendingSignup.find_all().count() == 1

    if squatter_code != owner_code:
        stale = await client.post("/v1/auth/signup/confirm", json={"email": "squat@example.com", "email_code": squatter_code})
        assert stale.status == 400
    confirmed = await client.post("/v1/auth/signup/confirm", json={"email": "squat@example.com", "email_code": owner_code})
    assert confirmed.status == 201, await confirmed.text()
    assert (await client.post("/v1/auth/login", json={"email": "squat@example.com", "password": PASSWORD})).status == 401
    assert (await sign_in(client, "squat@example.com"))["status"] == "signed_in"


async def test_wrong_codes_kill_the_sign_up(client: TestClient) -> None:
    assert (await client.post("/v1/auth/signup", json={"phone": "0711222333", "password": PASSWORD})).status == 202
    code = await code_sent_to(client, "+254711222333")
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    for _ in range(5):
        answer = await client.post("/v1/auth/signup/confirm", json={"phone": "0711222333", "phone_code": wrong})
        assert answer.status == 400 and await problem_type(answer) == "otp-invalid"
    dead = await client.post("/v1/auth/signup/confirm", json={"phone": "0711222333", "phone_code": code})
    assert dead.status == 410 and await problem_type(dead) == "otp-expired"
    assert await User.find_all().count() == 0
    mismatched = await client.post("/v1/auth/signup/confirm", json={"phone": "0711222333", "email_code": code})
    assert mismatched.status == 422


async def test_concurrent_sign_ups_from_one_address_stop_at_its_limit(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, signups_per_address="3/hour"))

    answers = await asyncio.gather(
        *(client.post("/v1/auth/signup", json={"email": f"bot{n}@example.com", "password": PASSWORD}) for n in range(12))
    )

    statuses = [answer.status for answer in answers]
    assert statuses.count(202) == 3 and statuses.count(429) == 9, statuses
    assert await PendingSignup.find_all().count() == 3
    refused = next(answer for answer in answers if answer.status == 429)
    assert (await refused.json(content_type=PROBLEM))["type"].endswith(":rate-limited") and int(refused.headers["Retry-After"]) > 0


async def test_sign_ups_overall_are_limited(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    client = await aiohttp_client(_app(settings, signups_overall="2/hour"))
    answers = [
        (await client.post("/v1/auth/signup", json={"email": f"rush{n}@example.com", "password": PASSWORD})).status for n in range(3)
    ]
    assert answers == [202, 202, 429]


async def test_sms_sent_for_requests_are_limited_per_address_overall_and_per_phone(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    per_address = await aiohttp_client(_app(settings, sms_per_address="2/hour"))
    phones = ["0711000001", "0711000002", "0711000003"]
    answers = [(await per_address.post("/v1/auth/signup", json={"phone": phone, "password": PASSWORD})).status for phone in phones]
    assert answers == [202, 202, 429]
    # Email costs nothing per message: it does not spend the SMS budget.
    assert (await per_address.post("/v1/auth/signup", json={"email": "cheap@example.com", "password": PASSWORD})).status == 202
    # A reset code by SMS spends the same budget, whether or not the phone has an account.
    assert (await per_address.post("/v1/auth/password/reset", json={"phone": "0711000009"})).status == 429
    await message_to(per_address, "+254711000002")
    assert await messages_to(per_address, "+254711000003") == []


async def test_the_deployment_sms_budget_and_each_phone_are_limited(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    overall = await aiohttp_client(_app(settings, sms_overall="2/hour", otp_sends_per_destination="2/hour"))
    first = await overall.post("/v1/auth/signup", json={"phone": "0711000001", "password": PASSWORD})
    again = await overall.post("/v1/auth/signup", json={"phone": "0711000001", "password": PASSWORD})
    third = await overall.post("/v1/auth/signup", json={"phone": "0711000001", "password": PASSWORD})
    other = await overall.post("/v1/auth/password/reset", json={"phone": "0711000002"})
    assert [first.status, again.status, third.status, other.status] == [202, 202, 429, 429]


async def test_a_reset_request_does_the_same_work_for_an_account_and_for_none(aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    # No worker: whatever was sent or stored by the time the answer came, the request itself did.
    app = create_app(settings)
    client = await aiohttp_client(app)
    await create_user(app, email="faraji@example.com")
    queue = app[SERVICES].queue

    answers = []
    for email in ("faraji@example.com", "nobody@example.com"):
        response = await client.post("/v1/auth/password/reset", json={"email": email})
        headers = {name: value for name, value in response.headers.items() if name not in ("X-Request-ID", "Date")}
        answers.append((response.status, await response.read(), headers))

    assert answers[0] == answers[1] and answers[0][0] == 202
    assert await list_outbox(app[SERVICES].redis, settings.redis.namespace, None, 10) == []
    assert await OneTimeCode.find_all().count() == 0
    assert await queue.count("queued") == 2
    # The queued work, run as the worker would, is where the two part ways.
    sent = []
    for _ in range(2):
        job = await queue.dequeue(timeout=1)
        assert job is not None and job.function == "send_password_reset_code"
        sent.append(await send_password_reset_code({"services": app[SERVICES], "job": job}, **job.kwargs))
    assert sent == [True, False]
    assert [entry["to"] for entry in await list_outbox(app[SERVICES].redis, settings.redis.namespace, None, 10)] == ["faraji@example.com"]
