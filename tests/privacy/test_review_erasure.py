"""Erasing reviewers and the reviewed: an erased host's listing loses the stars of reviews about them, and a visit's
key, in reviews and in the other side's notice, names the pseudonym instead of the attendee."""

from datetime import timedelta

from aiohttp.test_utils import TestClient
from beanie import PydanticObjectId

from documents.notification import Notification, NotificationKind
from documents.privacy_request import PrivacyRequest
from documents.property import Property
from documents.review import Review, ReviewerRole
from gateway.privacy.deletion import erase_due_accounts
from gateway.reviews.occasions import visit_key
from gateway.reviews.reveal import count_review, revealed_notice_key
from gateway.state import SERVICES
from tests.factories import access_token_for, auth_header, create_user
from tests.properties.builders import published_listing, signed_in

GUEST_RATINGS = {"cleanliness": 5, "accuracy": 5, "communication": 5, "location": 4, "check_in": 5, "value": 4}


async def _erase(client: TestClient, user_id: str) -> str:
    """The person erased at an admin's hand, at once; answers their pseudonym."""
    admin = auth_header(access_token_for(client.app, await create_user(client.app, roles=("guest", "admin"))))
    deleted = await client.post(f"/v1/admin/users/{user_id}/deletion", headers=admin,
                                json={"reason": "DSR-2026-118: asked in the app's chat", "skip_grace": True})  # fmt: skip
    assert deleted.status == 202, await deleted.text()
    assert await erase_due_accounts(client.app[SERVICES]) == 1
    request = await PrivacyRequest.by_id((await deleted.json())["id"])
    assert request is not None and request.pseudonym
    return request.pseudonym


async def test_an_erased_hosts_listing_loses_the_stars_of_the_reviews_about_them(client: TestClient) -> None:
    services = client.app[SERVICES]
    host_id, host = await signed_in(client, "agent")
    listing = await published_listing(client, host)
    now = services.clock()
    review = Review(occasion=f"booking:{PydanticObjectId()}", property_id=listing["id"], author_id=str(PydanticObjectId()),
                    subject_id=host_id, author_role=ReviewerRole.GUEST, overall=5, ratings=GUEST_RATINGS,
                    comment="Mwangi was a great host", window_closes_at=now, revealed_at=now)  # fmt: skip
    await review.insert()
    assert await count_review(services, review, counted=True)
    counted = await Property.get(PydanticObjectId(listing["id"]))
    assert counted is not None and counted.rating_count == 1

    await _erase(client, host_id)

    recounted = await Property.get(PydanticObjectId(listing["id"]))
    assert recounted is not None and recounted.rating_count == 0 and recounted.rating_average == 0
    assert await Review.get(review.id) is None


async def test_a_visits_key_names_the_pseudonym_in_reviews_and_the_hosts_notice(client: TestClient) -> None:
    now = client.app[SERVICES].clock()
    attendee_id, _ = await signed_in(client)
    host_id = str(PydanticObjectId())
    occasion = visit_key(str(PydanticObjectId()), attendee_id)
    common = {"occasion": occasion, "overall": 4, "window_closes_at": now + timedelta(days=14), "revealed_at": now}
    written = Review(**common, author_id=attendee_id, subject_id=host_id, author_role=ReviewerRole.GUEST,
                     ratings={"organisation": 4, "venue": 4, "value": 4}, comment="Great sound, long queue")  # fmt: skip
    about = Review(**common, author_id=host_id, subject_id=attendee_id, author_role=ReviewerRole.HOST,
                   ratings={"conduct": 4}, comment="Polite")  # fmt: skip
    await written.insert()
    await about.insert()
    notice = Notification(user_id=host_id, kind=NotificationKind.REVIEW_REVEALED, title="Reviews are out",
                          body="Reviews are out", locale="en", dedupe_key=revealed_notice_key(occasion))  # fmt: skip
    await notice.insert()

    pseudonym = await _erase(client, attendee_id)

    kept = await Review.get(written.id)
    assert kept is not None and kept.author_id == pseudonym and attendee_id not in kept.occasion
    assert kept.occasion == occasion.replace(attendee_id, pseudonym) and kept.comment == "[erased]"
    assert await Review.get(about.id) is None
    renamed = await Notification.get(notice.id)
    assert renamed is not None and renamed.dedupe_key == revealed_notice_key(kept.occasion)
