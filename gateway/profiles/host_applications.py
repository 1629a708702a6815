"""Becoming a host: a guest applies with an identity document and a confirmed payout phone, an admin approves
(granting the agent role through the same path as `lango users grant`) or refuses with a reason, the applicant is told."""

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.host_application import ApplicationStateConflict, ApplicationStatus, HostApplication
from documents.notification import NotificationKind
from documents.payout_destination import PayoutDestination
from documents.stored_file import FileKind, FileStatus
from documents.user import User
from gateway.accounts.context import signed_in_user
from gateway.accounts.problems import AccountBeingErased
from gateway.accounts.roles import change_role
from gateway.files.lifecycle import owned_file
from gateway.files.problems import FileNotReady
from gateway.logs import get_logger
from gateway.notifications.dispatch import notify
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.profiles.problems import AlreadyHost, ApplicationDecided, ApplicationPending, PayoutPhoneRequired
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.host_applications")
HOST_ROLE = "agent"


async def submit_application(services: Services, caller: Caller, identity_document_id: str) -> HostApplication:
    """A new application awaiting an admin; refused while another awaits one, or for someone who hosts already."""
    # The stored roles, not the token's: an approval reaches the token only at its next refresh.
    if HOST_ROLE in (await signed_in_user(caller)).roles:
        raise AlreadyHost()
    await services.limits.hit("host_applications_per_user", caller.user_id)
    document = await owned_file(caller, identity_document_id)
    if (
        document.owner_id != caller.user_id
        or document.kind is not FileKind.DOCUMENT
        or document.status is not FileStatus.READY
    ):
        raise FileNotReady("the identity document must be a confirmed file of kind document, of your own")
    destination = await PayoutDestination.of(caller.user_id)
    if destination is None:
        raise PayoutPhoneRequired()
    application = HostApplication(
        user_id=caller.user_id, identity_document_id=identity_document_id, payout_phone=destination.phone
    )
    try:
        await application.insert()
    except DuplicateKeyError:
        raise ApplicationPending() from None
    # Checked after the insert: an erasure marks the account before it deletes applications, so one it has not marked
    # yet will find this application, and one it has marked (or finished) is seen here.
    account = await User.get(PydanticObjectId(caller.user_id))
    if account is None or account.erasure_started_at is not None:
        await application.delete()
        raise AccountBeingErased()
    return application


async def withdraw_application(caller: Caller, application_id: str) -> HostApplication:
    application = await _application(application_id)
    if application.user_id != caller.user_id:
        raise NotFound("no such application")
    try:
        return await application.withdraw()
    except ApplicationStateConflict as error:
        raise ApplicationDecided(str(error), status_now=error.current) from None


async def decide_application(
    services: Services, admin: Caller, application_id: str, *, approve: bool, reason: str | None
) -> HostApplication:
    """Approve or refuse once: the conditional update lets one decision (or the applicant's withdrawal) win a race,
    and only the winner grants the role, audits and notifies. Approving once the applicant's erasure has begun, or
    deciding an application the erasure removed after it was read, is `account-being-erased`."""
    application = await _application(application_id)
    status = ApplicationStatus.APPROVED if approve else ApplicationStatus.REFUSED
    try:
        decided = await application.decide(status, admin.user_id, reason, services.clock())
    except ApplicationStateConflict as error:
        if error.current is None:
            # Gone since it was read: only the applicant's erasure deletes applications.
            raise AccountBeingErased() from None
        raise ApplicationDecided(str(error), status_now=error.current) from None
    if approve:
        await _grant_host_role(services, admin, decided)
    await AuditEvent.record(
        AuditKind.HOST_APPLICATION_APPROVED if approve else AuditKind.HOST_APPLICATION_REFUSED,
        user_id=PydanticObjectId(decided.user_id),
        actor_id=PydanticObjectId(admin.user_id),
        application_id=str(decided.id),
        reason=reason,
    )
    await notify(
        services,
        decided.user_id,
        NotificationKind.HOST_APPLICATION_DECIDED,
        {"decision": status.value, "reason": reason or ""},
        dedupe_key=f"host_application:{decided.id}",
        data={"application_id": str(decided.id)},
    )
    log.info("host application decided", application_id=str(decided.id), decision=status.value)
    return decided


async def _grant_host_role(services: Services, admin: Caller, approved: HostApplication) -> None:
    """The approval is written before the role is granted; should the applicant's erasure begin in between, the grant
    is refused and the approval taken back, so no record says an identity check let someone host who never did."""
    try:
        await change_role(services, admin, approved.user_id, HOST_ROLE, granted=True)
    except (AccountBeingErased, NotFound):
        # NotFound: the erasure ran to its end meanwhile (the account existed when its owner applied).
        await approved.retract_approval()
        raise AccountBeingErased() from None


async def applications_of(user_id: str, after: str | None, limit: int) -> tuple[list[HostApplication], str | None]:
    return await newest_first(HostApplication, {"user_id": user_id}, after, limit)


async def applications_with(
    status: ApplicationStatus | None, after: str | None, limit: int
) -> tuple[list[HostApplication], str | None]:
    """For admins: every application, or those in one state, newest first."""
    return await newest_first(HostApplication, {"status": status.value} if status else {}, after, limit)


async def _application(application_id: str) -> HostApplication:
    application = (
        await HostApplication.get(PydanticObjectId(application_id)) if ObjectId.is_valid(application_id) else None
    )
    if application is None:
        raise NotFound("no such application")
    return application
