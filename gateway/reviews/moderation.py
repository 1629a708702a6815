"""Reviews reported as abusive: anyone who can read one may report it once; an admin hides it (out of every view and
average, audited) or dismisses the reports."""

from beanie import PydanticObjectId
from bson import ObjectId
from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.review import ReportStatus, Review, ReviewReport
from gateway.paging import newest_first
from gateway.problems import NotFound
from gateway.reviews.problems import ReviewResolved
from gateway.reviews.reveal import count_review
from gateway.security.callers import Caller
from gateway.services import Services


async def report_review(services: Services, caller: Caller, review_id: str, reason: str) -> None:
    """Report a public review; reporting it again changes nothing."""
    await services.limits.hit("review_reports_per_user", caller.user_id)
    review = await _review(review_id)
    if not review.visible_at(services.clock()):
        raise NotFound("no such review")
    try:
        await ReviewReport(
            review_id=review_id, reporter_id=caller.user_id, reason=reason, created_at=services.clock()
        ).insert()
    except DuplicateKeyError:
        return


async def open_reports(
    status: ReportStatus | None, after: str | None, limit: int
) -> tuple[list[ReviewReport], str | None]:
    return await newest_first(ReviewReport, {"status": status.value} if status else {}, after, limit)


async def hide_review(services: Services, admin: Caller, review_id: str) -> None:
    """Hide the review and take its rating out of the averages; its open reports are resolved as hidden."""
    review = await _review(review_id)
    if not await review.hide(services.clock()):
        raise ReviewResolved()
    # Hidden first: a count racing this one can no longer bring the rating in once it is taken out here.
    await count_review(services, review, counted=False)
    await ReviewReport.resolve_all(review_id, ReportStatus.HIDDEN, admin.user_id)
    await AuditEvent.record(
        AuditKind.REVIEW_HIDDEN,
        user_id=PydanticObjectId(review.author_id),
        actor_id=PydanticObjectId(admin.user_id),
        review_id=review_id,
    )


async def dismiss_reports(admin: Caller, review_id: str) -> int:
    """The review stays; its open reports are closed."""
    await _review(review_id)
    return await ReviewReport.resolve_all(review_id, ReportStatus.DISMISSED, admin.user_id)


async def _review(review_id: str) -> Review:
    review = await Review.get(PydanticObjectId(review_id)) if ObjectId.is_valid(review_id) else None
    if review is None:
        raise NotFound("no such review")
    return review
