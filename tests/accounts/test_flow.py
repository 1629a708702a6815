"""The whole journey over HTTP: sign up and confirm with a code per contact point, sign in, turn on 2FA, sign in with TOTP, refresh, sign out."""

from datetime import UTC, datetime

import pyotp
from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from tests.accounts.helpers import bearer, code_sent_to, problem_type, sign_in
from tests.factories import auth_header

PASSWORD = "mvua ya masika 2025"


async def test_signup_verify_login_2fa_refresh_logout(client: TestClient) -> None:
    started = await client.post("/v1/auth/signup", json={"email": "Wanjiru@Example.com", "phone": "0712 345 678", "password": PASSWORD})
    assert started.status == 202, await started.text()
    email_code = await code_sent_to(client, "wanjiru@example.com")
    sms_code = await code_sent_to(client, "+254712345678")
    codes = {"email_code": email_code, "phone_code": sms_code}
    contact = {"email": "wanjiru@example.com", "phone": "0712345678"}
    one_code = await client.post("/v1/auth/signup/confirm", json={**contact, "email_code": email_code, "phone_code": email_code})
    assert one_code.status == 400 and await problem_type(one_code) == "otp-invalid"
    signup = await client.post("/v1/auth/signup/confirm", json={**contact, **codes, "device": "Pixel 8"})
    assert signup.status == 201, await signup.text()
    signed_up = await signup.json()
    account = signed_up["account"]
    assert (account["email"], account["phone"], account["roles"]) == ("wanjiru@example.com", "+254712345678", ["guest"])
    # Holding the codes proved both contact points.
    assert account["email_verified"] and account["phone_verified"]
    me = await (await client.get("/v1/auth/me", headers=bearer(signed_up))).json()
    assert me["email_verified"] and me["phone_verified"]

    first = await sign_in(client, "wanjiru@example.com", PASSWORD)
    assert first["status"] == "signed_in"
    enrolment = await (await client.post("/v1/auth/2fa/enrol", headers=bearer(first))).json()
    assert enrolment["otpauth_uri"].startswith("otpauth://totp/") and enrolment["qr_png"].startswith("data:image/png;base64,")
    totp = pyotp.TOTP(enrolment["secret"])
    confirmed = await client.post("/v1/auth/2fa/confirm", json={"code": totp.now()}, headers=bearer(first))
    assert confirmed.status == 200
    backup_codes = (await confirmed.json())["backup_codes"]
    assert len(set(backup_codes)) == 10

    second = await sign_in(client, "wanjiru@example.com", PASSWORD)
    assert second["status"] == "mfa_required" and second["tokens"] is None
    # The code that confirmed enrolment is spent; the backup code works once.
    with_backup = await client.post("/v1/auth/login/mfa", json={"mfa_token": second["mfa_token"], "backup_code": backup_codes[0]})
    assert with_backup.status == 200
    third = await sign_in(client, "wanjiru@example.com", PASSWORD)
    reused = await client.post("/v1/auth/login/mfa", json={"mfa_token": third["mfa_token"], "backup_code": backup_codes[0]})
    assert reused.status == 401 and await problem_type(reused) == "mfa-invalid"

    fourth = await sign_in(client, "wanjiru@example.com", PASSWORD)
    # The current step was spent confirming enrolment; a phone a little ahead already shows the next one.
    next_step = totp.timecode(datetime.now(UTC)) + 1
    mfa = await client.post("/v1/auth/login/mfa", json={"mfa_token": fourth["mfa_token"], "code": totp.generate_otp(next_step)})
    assert mfa.status == 200, await mfa.text()
    tokens = (await mfa.json())["tokens"]

    refreshed = await client.post("/v1/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert refreshed.status == 200
    fresh = await refreshed.json()
    assert fresh["refresh_token"] != tokens["refresh_token"] and fresh["session_id"] == tokens["session_id"]

    logout = await client.post("/v1/auth/logout", headers=auth_header(fresh["access_token"]))
    assert logout.status == 204
    after = await client.get("/v1/auth/me", headers=auth_header(fresh["access_token"]))
    assert after.status == 401
    dead_refresh = await client.post("/v1/auth/refresh", json={"refresh_token": fresh["refresh_token"]})
    assert dead_refresh.status == 401

    kinds = {event.kind for event in await AuditEvent.find_all().to_list()}
    assert {AuditKind.SIGNUP, AuditKind.LOGIN_SUCCEEDED, AuditKind.MFA_ENABLED, AuditKind.MFA_FAILED} <= kinds
