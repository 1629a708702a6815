"""Approving an application to host while the applicant's account is erased: the admin is answered with the approval
made before the erasure began (the erasure then takes the role with the account) or with `account-being-erased`; in
the end the erased account holds no role, and nothing of theirs is left that could grant one."""

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.audit import AuditEvent
from documents.host_application import HostApplication
from documents.notification import Notification
from documents.privacy_request import PrivacyRequest
from documents.user import User
from gateway.privacy import profile_data
from gateway.privacy.deletion import erase_due_accounts
from gateway.privacy.registry import DataSubject, PersonalData
from gateway.services import Services
from gateway.state import SERVICES
from tests.profiles.builders import apply, ready_applicant
from tests.properties.builders import problem_type, signed_in

ERASED_MEANWHILE = "account-being-erased"


async def _applied_and_deletion_requested(client: TestClient, admin: dict[str, str]) -> tuple[str, str, str]:
    """An applicant awaiting a decision whose erasure an admin asked for without a grace period: their id, the
    application's and the deletion request's."""
    person_id, headers, document_id = await ready_applicant(client)
    applied = await apply(client, headers, document_id)
    assert applied.status == 201, await applied.text()
    deletion = await client.post(
        f"/v1/admin/users/{person_id}/deletion", json={"reason": "DSR-2026-301, by email", "skip_grace": True},
        headers=admin,
    )  # fmt: skip
    assert deletion.status == 202, await deletion.text()
    return person_id, (await applied.json())["id"], (await deletion.json())["id"]


async def _answer_during_erasure(
    monkeypatch: pytest.MonkeyPatch, services: Services, after: str | None, send: Callable[[], Awaitable[Any]]
) -> Any:
    """Erase the account due, sending the request `send` makes once the account is marked: before the first eraser
    (`after` None) or right after the named one; answers the response."""
    answers: list[Any] = []

    async def send_now(services: Services, subject: DataSubject) -> None:
        answers.append(await send())

    kinds = list(services.personal_data.kinds)
    at = 0 if after is None else [kind.name for kind in kinds].index(after) + 1
    kinds.insert(at, PersonalData("request_under_test", "the request raced against the erasure", erase=send_now))
    monkeypatch.setattr(services.personal_data, "kinds", tuple(kinds))
    assert await erase_due_accounts(services) == 1
    [answer] = answers
    return answer


async def _assert_nothing_could_grant_the_role(person_id: str, request_id: str, approval: Any) -> None:
    """The account is gone, so no role is left; an approval the admin was told of is the one record kept (under
    the pseudonym); a refused one left no application, and nothing names the person."""
    assert await User.get(PydanticObjectId(person_id)) is None
    assert not await HostApplication.find({"user_id": person_id}).to_list()
    request = await PrivacyRequest.by_id(request_id)
    assert request is not None and request.pseudonym and request.status == "erased"
    kept = [application.status for application in await HostApplication.find({"user_id": request.pseudonym}).to_list()]
    if approval.status == 200:
        assert kept == ["approved"]
    else:
        # Refused as the erasure began, or too late to find the application at all.
        assert (approval.status, await problem_type(approval)) in [(409, ERASED_MEANWHILE), (404, "not-found")]
        assert kept == []
    person = PydanticObjectId(person_id)
    assert not await AuditEvent.find({"$or": [{"user_id": person}, {"actor_id": person}]}).to_list()
    assert not await Notification.find({"user_id": person_id}).to_list()


@pytest.mark.parametrize(
    ("after", "answer"),
    [(None, (409, ERASED_MEANWHILE)), (profile_data.HOST_APPLICATIONS.name, (404, "not-found"))],
    ids=["as-the-erasure-begins", "once-applications-are-erased"],
)
async def test_an_approval_once_the_erasure_began_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, after: str | None, answer: tuple[int, str]
) -> None:
    """Before the erasure reaches applications, approving is refused; after, the application is gone."""
    services = client.app[SERVICES]
    _, admin = await signed_in(client, "admin")
    person_id, application_id, request_id = await _applied_and_deletion_requested(client, admin)
    approval = await _answer_during_erasure(
        monkeypatch, services, after,
        lambda: client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin),
    )  # fmt: skip
    assert approval.status == answer[0] and await problem_type(approval) == answer[1]
    await _assert_nothing_could_grant_the_role(person_id, request_id, approval)


@pytest.mark.parametrize("decided_first", [False, True], ids=["erased-before-the-decision", "erased-before-the-grant"])
async def test_an_erasure_during_the_approval_refuses_it(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, decided_first: bool
) -> None:
    """The whole erasure runs after the approval read the application: before it is decided, or once it is decided
    but before the role is granted (the approval is then taken back)."""
    services = client.app[SERVICES]
    _, admin = await signed_in(client, "admin")
    person_id, application_id, request_id = await _applied_and_deletion_requested(client, admin)
    decide = HostApplication.decide

    async def decide_and_erase(application: HostApplication, *args: Any) -> HostApplication:
        if not decided_first:
            assert await erase_due_accounts(services) == 1
        decided = await decide(application, *args)
        if decided_first:
            assert await erase_due_accounts(services) == 1
        return decided

    monkeypatch.setattr(HostApplication, "decide", decide_and_erase)
    approval = await client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin)

    assert approval.status == 409 and await problem_type(approval) == ERASED_MEANWHILE
    await _assert_nothing_could_grant_the_role(person_id, request_id, approval)


async def test_approvals_racing_erasures_end_with_no_role_either_way(client: TestClient) -> None:
    services = client.app[SERVICES]
    _, admin = await signed_in(client, "admin")
    for _ in range(3):
        person_id, application_id, request_id = await _applied_and_deletion_requested(client, admin)
        approval, erased = await asyncio.gather(
            client.post(f"/v1/admin/host-applications/{application_id}/approve", headers=admin),
            erase_due_accounts(services),
        )
        assert erased == 1
        await _assert_nothing_could_grant_the_role(person_id, request_id, approval)


@pytest.mark.parametrize("erased_before_the_insert", [False, True], ids=["as-the-erasure-begins", "before-the-insert"])
async def test_applying_while_the_account_is_erased_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch, erased_before_the_insert: bool
) -> None:
    """Applying once the erasure has begun, or after the applicant's checks passed but before the application is
    stored (the erasure has then already passed applications by), leaves no application."""
    services = client.app[SERVICES]
    _, admin = await signed_in(client, "admin")
    person_id, headers, document_id = await ready_applicant(client)
    deletion = await client.post(
        f"/v1/admin/users/{person_id}/deletion", json={"reason": "DSR-2026-302, by phone", "skip_grace": True},
        headers=admin,
    )  # fmt: skip
    assert deletion.status == 202, await deletion.text()
    if erased_before_the_insert:
        insert = HostApplication.insert

        async def erase_then_insert(application: HostApplication, **kwargs: Any) -> HostApplication:
            assert await erase_due_accounts(services) == 1
            return await insert(application, **kwargs)

        monkeypatch.setattr(HostApplication, "insert", erase_then_insert)
        applied = await apply(client, headers, document_id)
    else:
        applied = await _answer_during_erasure(monkeypatch, services, None, lambda: apply(client, headers, document_id))

    assert applied.status == 409 and await problem_type(applied) == ERASED_MEANWHILE
    assert not await HostApplication.find({"user_id": person_id}).to_list()


async def test_granting_a_role_once_the_erasure_began_is_refused(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same conditional grant guards the admin API's roles: `lango users grant` and the console go through it."""
    services = client.app[SERVICES]
    _, admin = await signed_in(client, "admin")
    person_id, _, request_id = await _applied_and_deletion_requested(client, admin)
    granted = await _answer_during_erasure(
        monkeypatch, services, None, lambda: client.put(f"/v1/admin/users/{person_id}/roles/agent", headers=admin)
    )
    assert granted.status == 409 and await problem_type(granted) == ERASED_MEANWHILE
    await _assert_nothing_could_grant_the_role(person_id, request_id, granted)
