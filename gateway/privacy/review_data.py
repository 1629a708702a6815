"""Reviews: those the person wrote keep their stars, anonymised; those about them go; their reports of reviews."""

from documents.notification import Notification
from documents.review import Review, ReviewReport
from gateway.privacy.records import ERASED, export_documents, id_or_pseudonym, mask_in_text
from gateway.privacy.registry import DataSubject, PersonalData
from gateway.reviews.reveal import count_review, revealed_notice_key
from gateway.services import Services


async def _anonymise_written(services: Services, subject: DataSubject) -> None:
    """The stars stay counted in the listing's and the host's averages (one guest leaving must not rewrite what others
    read of a place, nor let a bad review be taken back by closing an account); the words go, the author is the
    pseudonym, and a visit's key names the pseudonym instead of the attendee."""
    collection = Review.get_pymongo_collection()
    async for raw in collection.find(id_or_pseudonym("author_id")(subject), {"occasion": 1, "reply": 1}):
        changes: dict[str, object] = {
            "author_id": subject.pseudonym,
            "comment": ERASED,
            "occasion": raw["occasion"].replace(subject.user_id, subject.pseudonym),
        }
        if raw.get("reply"):
            # The reply is the other side's own words; only where they name the person does it change.
            changes["reply.text"] = mask_in_text(raw["reply"]["text"], subject.needles)
        await collection.update_one({"_id": raw["_id"]}, {"$set": changes})
    await _rename_visit_notices(subject)


async def _rename_visit_notices(subject: DataSubject) -> None:
    """A visit's key names its attendee, and so does the notice its host got of the visit's reviews."""
    notifications = Notification.get_pymongo_collection()
    naming = {"dedupe_key": {"$regex": f"^{revealed_notice_key('')}.*{subject.user_id}"}}
    async for raw in notifications.find(naming, {"dedupe_key": 1}):
        renamed = raw["dedupe_key"].replace(subject.user_id, subject.pseudonym)
        await notifications.update_one({"_id": raw["_id"]}, {"$set": {"dedupe_key": renamed}})


async def _remove_about(services: Services, subject: DataSubject) -> None:
    """What others wrote about the person goes, after its stars leave the averages (a listing's among them), and the
    reports of it with it. A review taken out of the averages but not yet removed is found again by a rerun."""
    for review in await Review.find({"subject_id": subject.user_id}).to_list():
        if review.counted:
            await count_review(services, review, counted=False)
        await ReviewReport.get_pymongo_collection().delete_many({"review_id": str(review.id)})
        await review.delete()


async def _anonymise_reports(services: Services, subject: DataSubject) -> None:
    """A report is a safety record about a review, not about its reporter: it stays, naming the pseudonym."""
    collection = ReviewReport.get_pymongo_collection()
    async for raw in collection.find(id_or_pseudonym("reporter_id")(subject), {"reason": 1}):
        await collection.update_one(
            {"_id": raw["_id"]},
            {"$set": {"reporter_id": subject.pseudonym, "reason": mask_in_text(raw["reason"], subject.needles)}},
        )
    await collection.update_many({"resolved_by": subject.user_id}, {"$set": {"resolved_by": subject.pseudonym}})


REVIEWS_WRITTEN = PersonalData(
    "reviews",
    "reviews written (stars, categories, words) and reviews others wrote about the person, with replies",
    erase=_anonymise_written,
    export=export_documents(Review, lambda s: {"$or": [{"author_id": s.user_id}, {"subject_id": s.user_id}]}),
)
REVIEWS_ABOUT = PersonalData("reviews_about", "reviews others wrote about the person", erase=_remove_about)
REVIEW_REPORTS = PersonalData(
    "review_reports",
    "reports of reviews the person made, and reports they resolved as an admin",
    erase=_anonymise_reports,
    export=export_documents(ReviewReport, lambda s: {"reporter_id": s.user_id}),
)
