"""Sign-up rules, roles that need two-factor, admin role changes with their audit trail, sandbox-only routes."""

import pyotp
import pytest
from aiohttp.test_utils import TestClient

from gateway.app import create_app
from gateway.settings import Settings
from tests.accounts.helpers import bearer, code_sent_to, problem_type, sign_in
from tests.factories import access_token_for, auth_header, create_user


@pytest.mark.parametrize("given", ["0712345678", "+254712345678", "254712345678", "0712 345 678"])
async def test_kenyan_phone_forms_become_e164(client: TestClient, given: str) -> None:
    response = await client.post("/v1/auth/signup", json={"phone": given, "password": "mvua ya masika 2025"})
    assert response.status == 202
    code = await code_sent_to(client, "+254712345678")
    confirmed = await client.post("/v1/auth/signup/confirm", json={"phone": given, "phone_code": code})
    assert confirmed.status == 201, await confirmed.text()
    assert (await confirmed.json())["account"]["phone"] == "+254712345678"


async def test_signup_refuses_weak_passwords_and_bad_phones(client: TestClient) -> None:
    weak = await client.post("/v1/auth/signup", json={"email": "hawa@example.com", "password": "Password123!"})
    assert weak.status == 422 and await problem_type(weak) == "weak-password"
    short = await client.post("/v1/auth/signup", json={"email": "hawa@example.com", "password": "kifupi"})
    assert short.status == 422
    bad_phone = await client.post("/v1/auth/signup", json={"phone": "07123", "password": "mvua ya masika 2025"})
    assert bad_phone.status == 422
    assert (await client.post("/v1/auth/signup", json={"password": "mvua ya masika 2025"})).status == 422


async def test_an_agent_without_two_factor_must_enrol_before_getting_a_session(client: TestClient) -> None:
    await create_user(client.app, email="imani@example.com", roles=("guest", "agent"))
    first = await sign_in(client, "imani@example.com")
    assert first["status"] == "mfa_enrolment_required" and first["tokens"] is None
    limited = auth_header(first["enrolment_token"])
    assert (await client.get("/v1/auth/me", headers=limited)).status == 401
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=limited)).json()
    confirmed = await (
        await client.post("/v1/auth/2fa/confirm", json={"code": pyotp.TOTP(enrolment["secret"]).now()}, headers=limited)
    ).json()
    assert confirmed["tokens"]["access_token"]
    me = await (await client.get("/v1/auth/me", headers=bearer(confirmed))).json()
    assert me["mfa_enabled"] and "agent" in me["roles"]
    refused = await client.post(
        "/v1/auth/2fa/disable",
        json={"password": "correct horse battery staple", "backup_code": confirmed["backup_codes"][0]},
        headers=bearer(confirmed),
    )
    assert refused.status == 403 and await problem_type(refused) == "mfa-required-for-role"


async def test_admins_grant_and_remove_roles_and_read_the_audit_log_page_by_page(client: TestClient) -> None:
    admin = await create_user(client.app, roles=("guest", "admin"))
    scanner = await create_user(client.app, email="juma@example.com")
    headers = auth_header(access_token_for(client.app, admin))
    granted = await client.put(f"/v1/admin/users/{scanner.id}/roles/scanner", headers=headers)
    assert granted.status == 200 and (await granted.json())["roles"] == ["guest", "scanner"]
    session = await sign_in(client, "juma@example.com")
    removed = await client.delete(f"/v1/admin/users/{scanner.id}/roles/scanner", headers=headers)
    assert (await removed.json())["roles"] == ["guest"]
    assert (await client.get("/v1/auth/me", headers=bearer(session))).status == 401
    assert (await client.put(f"/v1/admin/users/{scanner.id}/roles/emperor", headers=headers)).status == 404
    own = await client.delete(f"/v1/admin/users/{admin.id}/roles/admin", headers=headers)
    assert own.status == 409
    not_admin = auth_header(access_token_for(client.app, scanner))
    assert (await client.put(f"/v1/admin/users/{scanner.id}/roles/admin", headers=not_admin)).status == 403

    seen: list[str] = []
    cursor = None
    while True:
        query = {"user_id": str(scanner.id), "limit": "1", **({"cursor": cursor} if cursor else {})}
        page = await (await client.get("/v1/admin/audit", params=query, headers=headers)).json()
        seen += [item["kind"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["role_removed", "login_succeeded", "role_granted"]
    forged = await client.get("/v1/admin/audit", params={"cursor": "not-a-cursor"}, headers=headers)
    assert forged.status == 400


async def test_the_outbox_route_exists_only_in_sandbox(client: TestClient, aiohttp_client, settings: Settings) -> None:  # type: ignore[no-untyped-def]
    assert (await client.get("/dev/outbox")).status == 200
    live = await aiohttp_client(create_app(settings.model_copy(update={"sandbox": False})))
    assert (await live.get("/dev/outbox")).status == 404
    assert "/dev/outbox" not in (await (await live.get("/openapi.json")).json())["paths"]
