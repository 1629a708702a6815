"""Erasing someone who applied to host: an approval stays as the record of the identity check, naming the pseudonym;
the rest of their applications go; the contact points they changed away from leave the audit log too."""

from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.host_application import ApplicationStatus, HostApplication
from documents.privacy_request import PrivacyRequest
from gateway.privacy.deletion import erase_due_accounts
from gateway.privacy.records import ERASED
from gateway.state import SERVICES
from tests.factories import access_token_for, auth_header, create_user

FORMER_EMAIL = "akinyi.otieno@old-employer.co.ke"


async def test_an_approved_application_stays_without_the_phone_and_others_go(client: TestClient) -> None:
    app = client.app
    admin = await create_user(app, roles=("guest", "admin"))
    person = await create_user(app, email="akinyi@example.com", phone="+254733000444", roles=("guest", "agent"))
    person_id = str(person.id)
    approved = HostApplication(user_id=person_id, identity_document_id=str(PydanticObjectId()),
                               payout_phone="254733000444", status=ApplicationStatus.APPROVED, decided_by=str(admin.id))  # fmt: skip
    refused = HostApplication(user_id=person_id, identity_document_id=str(PydanticObjectId()),
                              payout_phone="254733000444", status=ApplicationStatus.REFUSED,
                              reason="The ID photo of Akinyi is unreadable")  # fmt: skip
    await approved.insert()
    await refused.insert()
    await AuditEvent.record(AuditKind.EMAIL_CHANGED, user_id=person.id, previous=FORMER_EMAIL, new=person.email)
    reason = "DSR-2026-117: asked by email, ID checked by video call"
    deleted = await client.post(
        f"/v1/admin/users/{person_id}/deletion",
        headers=auth_header(access_token_for(app, admin)),
        json={"reason": reason, "skip_grace": True},
    )
    assert deleted.status == 202, await deleted.text()

    assert await erase_due_accounts(app[SERVICES]) == 1

    request = await PrivacyRequest.by_id((await deleted.json())["id"])
    assert request is not None and request.pseudonym
    kept = await HostApplication.get(approved.id)
    assert kept is not None and kept.user_id == request.pseudonym and kept.payout_phone == ERASED
    assert kept.status is ApplicationStatus.APPROVED and kept.decided_by == str(admin.id)
    assert await HostApplication.get(refused.id) is None
    [changed] = await AuditEvent.find({"kind": AuditKind.EMAIL_CHANGED.value}).to_list()
    assert changed.user_id == PydanticObjectId(request.pseudonym)
    assert changed.details == {"previous": ERASED, "new": ERASED}
