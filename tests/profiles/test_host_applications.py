"""Becoming a host: apply with an identity document and a confirmed payout phone; an admin refuses (with a reason the
applicant is told) or approves (granting the agent role, audited); decisions race safely."""

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from documents.audit import AuditEvent, AuditKind
from documents.user import User
from tests.factories import access_token_for, auth_header
from tests.profiles.builders import apply, confirm_payout_phone, identity_document, ready_applicant
from tests.properties.builders import listing_body, problem_type, signed_in


async def _inbox_kinds(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    inbox = await (await client.get("/v1/me/notifications", headers=headers)).json()
    return [item for item in inbox["items"] if item["kind"] == "host_application_decided"]


async def test_a_refused_application_is_resubmitted_and_approved_which_makes_a_host(client: TestClient) -> None:
    user_id, headers = await signed_in(client)
    _, admin = await signed_in(client, "admin")
    document_id = await identity_document(client, headers)
    no_phone = await apply(client, headers, document_id)
    assert no_phone.status == 409 and await problem_type(no_phone) == "payout-phone-required"
    await confirm_payout_phone(client, headers, "0712345678")
    _, stranger = await signed_in(client)
    theirs = await apply(client, stranger, document_id)
    assert theirs.status == 404 and await problem_type(theirs) == "file-not-found"

    first = await apply(client, headers, document_id)
    assert first.status == 201, await first.text()
    application = await first.json()
    assert application["status"] == "submitted" and application["payout_phone"] == "2547*****678"
    again = await apply(client, headers, document_id)
    assert again.status == 409 and await problem_type(again) == "application-pending"
    # Only admins decide.
    assert (
        await client.post(f"/v1/admin/host-applications/{application['id']}/approve", headers=headers)
    ).status == 403

    pending = await (await client.get("/v1/admin/host-applications?status=submitted", headers=admin)).json()
    assert [item["id"] for item in pending["items"]] == [application["id"]]
    # The admin reads the identity document through the files API.
    assert (await client.get(f"/v1/files/{document_id}", headers=admin)).status == 200
    refused = await client.post(
        f"/v1/admin/host-applications/{application['id']}/refuse",
        json={"reason": "The ID photo is unreadable"},
        headers=admin,
    )
    assert refused.status == 200, await refused.text()
    assert (await refused.json())["status"] == "refused"
    told = await _inbox_kinds(client, headers)
    assert len(told) == 1 and "The ID photo is unreadable" in told[0]["body"]
    assert "agent" not in (await User.get(user_id)).roles  # type: ignore[union-attr]

    resubmitted = await apply(client, headers, await identity_document(client, headers))
    assert resubmitted.status == 201, await resubmitted.text()
    second_id = (await resubmitted.json())["id"]
    approved = await client.post(f"/v1/admin/host-applications/{second_id}/approve", headers=admin)
    assert approved.status == 200, await approved.text()
    assert "agent" in (await User.get(user_id)).roles  # type: ignore[union-attr]
    assert len(await _inbox_kinds(client, headers)) == 2
    mine = await (await client.get("/v1/me/host-applications", headers=headers)).json()
    assert [(item["status"], item["reason"]) for item in mine["items"]] == [
        ("approved", None),
        ("refused", "The ID photo is unreadable"),
    ]

    kinds = [event.kind for event in await AuditEvent.find({"user_id": (await User.get(user_id)).id}).to_list()]  # type: ignore[union-attr]
    assert (
        kinds.count(AuditKind.HOST_APPLICATION_REFUSED) == 1 and kinds.count(AuditKind.HOST_APPLICATION_APPROVED) == 1
    )
    assert kinds.count(AuditKind.ROLE_GRANTED) == 1

    # With the role in a fresh token, the new host lists a place; their public profile shows the badges.
    host = auth_header(access_token_for(client.app, await User.get(user_id)))  # type: ignore[arg-type]
    assert (await client.post("/v1/properties", json=listing_body(), headers=host)).status == 201
    badges = (await (await client.get(f"/v1/users/{user_id}/profile", headers=stranger)).json())["badges"]
    assert {"identity_verified", "host"} <= set(badges)
    for token in (host, headers):  # the approval is known before the old token learns of it
        already = await apply(client, token, await identity_document(client, token))
        assert already.status == 409 and await problem_type(already) == "already-host"


async def test_two_admins_approving_at_once_grant_the_role_once(client: TestClient) -> None:
    user_id, headers, document_id = await ready_applicant(client)
    application_id = (await (await apply(client, headers, document_id)).json())["id"]
    admins = [(await signed_in(client, "admin"))[1] for _ in range(2)]
    answers = await asyncio.gather(
        *(client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin) for admin in admins)
    )
    assert sorted(answer.status for answer in answers) == [200, 409]
    user = await User.get(user_id)
    assert user.roles.count("agent") == 1  # type: ignore[union-attr]
    approvals = await AuditEvent.find({"user_id": user.id, "kind": AuditKind.HOST_APPLICATION_APPROVED.value}).count()  # type: ignore[union-attr]
    assert approvals == 1 and len(await _inbox_kinds(client, headers)) == 1


async def test_approval_racing_a_withdrawal_lets_exactly_one_win(client: TestClient) -> None:
    _, admin = await signed_in(client, "admin")
    for round_number in range(3):
        user_id, headers, document_id = await ready_applicant(client, f"07123456{round_number:02d}")
        application_id = (await (await apply(client, headers, document_id)).json())["id"]
        approve, withdraw = await asyncio.gather(
            client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin),
            client.post(f"/v1/me/host-applications/{application_id}/withdraw", headers=headers),
        )
        assert sorted((approve.status, withdraw.status)) == [200, 409]
        host = "agent" in (await User.get(user_id)).roles  # type: ignore[union-attr]
        assert host == (approve.status == 200)
        final = (await (await client.get("/v1/me/host-applications", headers=headers)).json())["items"][0]["status"]
        assert final == ("approved" if host else "withdrawn")


async def test_a_refusal_needs_a_reason_and_a_stranger_cannot_withdraw(client: TestClient) -> None:
    _, headers, document_id = await ready_applicant(client)
    application_id = (await (await apply(client, headers, document_id)).json())["id"]
    _, admin = await signed_in(client, "admin")
    bare = await client.post(f"/v1/admin/host-applications/{application_id}/refuse", json={}, headers=admin)
    assert bare.status == 422
    _, stranger = await signed_in(client)
    assert (await client.post(f"/v1/me/host-applications/{application_id}/withdraw", headers=stranger)).status == 404
    withdrawn = await client.post(f"/v1/me/host-applications/{application_id}/withdraw", headers=headers)
    assert withdrawn.status == 200 and (await withdrawn.json())["status"] == "withdrawn"
    late = await client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin)
    assert late.status == 409 and await problem_type(late) == "application-decided"
