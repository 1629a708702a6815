"""Deleting an account: asked by its owner (password, and the second factor when on) or by an admin on a data
subject's request; refused while business is open; erased by a job once the grace period is over, unless the owner
cancels or signs in meanwhile."""

from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from documents.audit import AuditEvent, AuditKind
from documents.notification import NotificationKind
from documents.privacy_request import PrivacyRequest
from documents.profile import Profile
from documents.ticket_order import TicketOrder
from documents.user import User
from gateway.accounts.problems import MfaInvalid
from gateway.accounts.step_up import verify_current_password
from gateway.accounts.two_factor import verify_second_factor
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.notifications.dispatch import notify
from gateway.privacy.blockers import deletion_blockers
from gateway.privacy.problems import DeletionBlocked, NoDeletionScheduled
from gateway.privacy.registry import DataSubject
from gateway.problems import NotFound
from gateway.security.callers import Caller
from gateway.services import Services

log = get_logger("lango.privacy")
# A deletion found blocked when its grace period ends (a booking made meanwhile) is tried again this much later.
BLOCKED_RETRY = timedelta(hours=6)


async def _refuse_if_blocked(user_id: str) -> None:
    if blockers := await deletion_blockers(user_id):
        raise DeletionBlocked(
            "; ".join(blocker.detail for blocker in blockers),
            reasons=[{"code": blocker.code, "detail": blocker.detail} for blocker in blockers],
        )


async def _schedule(
    services: Services, user: User, *, admin_id: str | None, reason: str | None, grace: bool
) -> PrivacyRequest:
    user_id = str(user.id)
    await _refuse_if_blocked(user_id)
    now = services.clock()
    due_at = now + timedelta(days=services.settings.privacy.deletion_grace_d if grace else 0)
    request = await PrivacyRequest.schedule_deletion(user_id, str(ObjectId()), due_at, admin_id=admin_id, reason=reason)
    await AuditEvent.record(
        AuditKind.ACCOUNT_DELETION_REQUESTED,
        user_id=user.id,
        actor_id=PydanticObjectId(admin_id) if admin_id else None,
        request_id=str(request.id),
        due_at=request.due_at,
        reason=reason,
    )
    await notify(services, user_id, NotificationKind.PRIVACY_NOTICE, {"notice": "deletion_scheduled", "day": request.due_at},
                 dedupe_key=f"privacy:{request.id}:scheduled")  # fmt: skip
    return request


async def request_own_deletion(
    services: Services, user: User, *, password: str, code: str | None, backup_code: str | None
) -> PrivacyRequest:
    """The owner proves it is them now (password, and a TOTP or backup code when two-factor is on), then the account
    is scheduled for erasure after the grace period."""
    await verify_current_password(services, user, password)
    if user.mfa_enabled:
        await services.limits.hit("otp_checks_per_account", str(user.id))
        if await verify_second_factor(services, user, code=code, backup_code=backup_code) is None:
            raise MfaInvalid()
    return await _schedule(services, user, admin_id=None, reason=None, grace=True)


async def request_deletion_for(
    services: Services, admin: Caller, user_id: str, *, reason: str, grace: bool
) -> PrivacyRequest:
    """An admin acts on a data subject's request made outside the app (`reason` holds its reference), audited."""
    user = await User.get(PydanticObjectId(user_id)) if ObjectId.is_valid(user_id) else None
    if user is None:
        raise NotFound("no such user")
    return await _schedule(services, user, admin_id=admin.user_id, reason=reason, grace=grace)


async def cancel_deletion(services: Services, user_id: str, *, by: str, admin: Caller | None = None) -> PrivacyRequest:
    """Stop a deletion still waiting; by `user`, `sign_in` or `admin`."""
    request = await PrivacyRequest.cancel_deletion(user_id, by)
    if request is None:
        raise NoDeletionScheduled()
    await AuditEvent.record(
        AuditKind.ACCOUNT_DELETION_CANCELLED,
        user_id=PydanticObjectId(user_id),
        actor_id=PydanticObjectId(admin.user_id) if admin else None,
        request_id=str(request.id),
        by=by,
    )
    await notify(services, user_id, NotificationKind.PRIVACY_NOTICE, {"notice": "deletion_cancelled", "day": services.clock()},
                 dedupe_key=f"privacy:{request.id}:cancelled")  # fmt: skip
    return request


async def cancel_deletion_on_sign_in(services: Services, user: User) -> None:
    """Signing in during the grace period keeps the account."""
    try:
        await cancel_deletion(services, str(user.id), by="sign_in")
    except NoDeletionScheduled:
        return


# Audit events keeping a contact point the account had before it changed it.
CONTACT_CHANGES = [AuditKind.EMAIL_CHANGED.value, AuditKind.PHONE_CHANGED.value]


async def _subject(request: PrivacyRequest, user: User | None) -> DataSubject:
    """Who is erased, with every other name their records carry: holder names on their ticket orders, the display
    name of their profile, and the emails and phones they had before changing them (searched for only in records
    already known to be theirs: an old phone may be someone else's now)."""
    names: set[str] = set()
    async for raw in TicketOrder.get_pymongo_collection().find({"buyer_id": request.user_id}, {"holder_name": 1}):
        names.add(raw["holder_name"])
    if (profile := await Profile.find_one({"user_id": request.user_id})) and profile.display_name:
        names.add(profile.display_name)
    changes = {"user_id": ObjectId(request.user_id), "kind": {"$in": CONTACT_CHANGES}}
    async for raw in AuditEvent.get_pymongo_collection().find(changes, {"details": 1}):
        names.update(str(raw["details"][key]) for key in ("previous", "new") if raw["details"].get(key))
    return DataSubject(
        user_id=request.user_id,
        email=user.email if user else None,
        phone=user.phone if user else None,
        pseudonym=request.pseudonym or "",
        names=frozenset(names),
    )


async def erase_account(services: Services, request: PrivacyRequest) -> bool:
    """Run every registered eraser for the request's account; answers False when the account turned out blocked
    (the request waits again). Safe to run again after a failure: erasers find what they already changed."""
    if blockers := await deletion_blockers(request.user_id):
        codes = [blocker.code for blocker in blockers]
        log.warning("account erasure postponed", request_id=str(request.id), blockers=codes)
        # A run interrupted earlier may have marked the account; until the erasure resumes it can be granted roles.
        await User.mark_erasure(PydanticObjectId(request.user_id), started=False)
        await request.postpone(services.clock() + BLOCKED_RETRY, ", ".join(codes))
        return False
    # Before any eraser runs: a role granted from now on is refused (an approval racing the erasure is undone), and
    # one granted before goes with the account, deleted last.
    await User.mark_erasure(PydanticObjectId(request.user_id), started=True)
    user = await User.get(PydanticObjectId(request.user_id))
    subject = await _subject(request, user)
    for kind in services.personal_data.kinds:
        await kind.erase(services, subject)
    await request.mark_erased()
    await AuditEvent.record(
        AuditKind.ACCOUNT_ERASED, user_id=PydanticObjectId(request.pseudonym), request_id=str(request.id),
        kinds=[kind.name for kind in services.personal_data.kinds],
    )  # fmt: skip
    log.info("account erased", request_id=str(request.id))
    return True


async def erase_due_accounts(services: Services, limit: int = 20) -> int:
    """Erase accounts whose grace period is over, first finishing erasures a crash interrupted; answers how many."""
    erased = 0
    for request in await PrivacyRequest.erasing():
        erased += await _erase_or_log(services, request)
    for _ in range(limit):
        request = await PrivacyRequest.claim_due_deletion(services.clock())
        if request is None:
            break
        erased += await _erase_or_log(services, request)
    return erased


async def _erase_or_log(services: Services, request: PrivacyRequest) -> bool:
    try:
        return await erase_account(services, request)
    except Exception:
        # One erasure failing (a vendor down) must not hold back the others; it stays erasing and is run again.
        log.exception("account erasure failed; it runs again next time", request_id=str(request.id))
        return False


@every("*/5 * * * *", timeout_s=1800)
async def erase_due_deletions(ctx: dict[str, Any]) -> int:
    return await erase_due_accounts(ctx["services"])
