"""Admin broadcasts: one message to an audience, sent in batches by a job, with progress the admin can watch."""

from typing import Annotated, Any, Literal

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, model_validator

from documents.broadcast import Audience, Broadcast, BroadcastStatus
from documents.marketing_consent import MarketingConsent
from documents.notification import NotificationKind
from gateway.input_types import DisplayText, ProseText
from gateway.jobs import JobPolicy, enqueue, job
from gateway.logs import get_logger
from gateway.messaging.bus import BusUnavailable
from gateway.messaging.catalogue import BROADCAST_PROGRESS
from gateway.messaging.targets import user_room
from gateway.notifications.audiences import audience_for
from gateway.notifications.dispatch import notify
from gateway.notifications.problems import BroadcastNotFound
from gateway.notifications.views import BroadcastView
from gateway.paging import newest_first
from gateway.request_models import RequestModel
from gateway.security.callers import ROLES
from gateway.services import Services

log = get_logger("lango.notifications.broadcasts")


class AudienceRequest(RequestModel):
    kind: Literal["all", "role", "event"]
    value: Annotated[str, Field(min_length=1, max_length=64)] | None = None

    @model_validator(mode="after")
    def _value_fits_kind(self) -> "AudienceRequest":
        if self.kind == "all" and self.value is not None:
            raise ValueError("the all audience takes no value")
        if self.kind == "role" and self.value not in ROLES:
            raise ValueError(f"a role audience names one of {', '.join(sorted(ROLES))}")
        if self.kind == "event" and self.value is None:
            raise ValueError("an event audience names the event id")
        return self


class BroadcastRequest(RequestModel):
    audience: AudienceRequest
    title: Annotated[DisplayText, Field(min_length=1, max_length=80)]
    message: Annotated[ProseText, Field(min_length=1, max_length=600)]
    marketing: bool = Field(False, description="a promotion: it reaches only users who opted in to marketing")


async def start_broadcast(services: Services, admin_id: str, request: BroadcastRequest) -> Broadcast:
    audience = audience_for(request.audience.kind, request.audience.value)
    broadcast = Broadcast(
        admin_id=admin_id,
        audience=Audience(kind=request.audience.kind, value=request.audience.value),
        title=request.title,
        body=request.message,
        marketing=request.marketing,
        total=await audience.count(),
    )
    await broadcast.insert()
    await _queue_batch(services, str(broadcast.id), after=None)
    return broadcast


async def broadcast_by_id(broadcast_id: str) -> Broadcast:
    broadcast = await Broadcast.get(PydanticObjectId(broadcast_id)) if ObjectId.is_valid(broadcast_id) else None
    if broadcast is None:
        raise BroadcastNotFound()
    return broadcast


async def recent_broadcasts(after: str | None, limit: int) -> tuple[list[Broadcast], str | None]:
    """Broadcasts newest first, as admins follow them."""
    return await newest_first(Broadcast, {}, after, limit)


async def _queue_batch(services: Services, broadcast_id: str, *, after: str | None) -> None:
    key = f"broadcast:{broadcast_id}:{after or 'start'}"
    await enqueue(services.queue, send_broadcast_batch, key=key, broadcast_id=broadcast_id, after=after)


@job(JobPolicy(retries=5, retry_delay_s=5.0, timeout_s=600))
async def send_broadcast_batch(ctx: dict[str, Any], *, broadcast_id: str, after: str | None) -> int:
    """Notify one batch of the audience, count it, report progress, and queue the next batch."""
    services: Services = ctx["services"]
    broadcast = await broadcast_by_id(broadcast_id)
    if broadcast.status != BroadcastStatus.SENDING or broadcast.cursor != after:
        return 0
    batch_size = services.settings.notifications.broadcast_batch_size
    user_ids = await audience_for(broadcast.audience.kind, broadcast.audience.value).user_ids_after(after, batch_size)
    sent = failed = 0
    # A promotion skips everyone who has not opted in to marketing; the cursor still moves past them.
    if broadcast.marketing:
        consenting = await MarketingConsent.granted_among(user_ids)
        user_ids_sent = [user_id for user_id in user_ids if user_id in consenting]
    else:
        user_ids_sent = user_ids
    for user_id in user_ids_sent:
        try:
            notification = await notify(
                services,
                user_id,
                NotificationKind.BROADCAST,
                {"title": broadcast.title, "message": broadcast.body},
                dedupe_key=f"broadcast:{broadcast_id}",
                data={"broadcast_id": broadcast_id},
            )
        except Exception:
            # One recipient's bad data must not hold back the rest of the audience.
            log.exception("broadcast recipient not notified", broadcast_id=broadcast_id, user_id=user_id)
            notification = None
        sent, failed = (sent + 1, failed) if notification is not None else (sent, failed + 1)
    cursor = user_ids[-1] if len(user_ids) == batch_size else None
    advanced = await Broadcast.advance(
        broadcast.id, after=after, cursor=cursor, sent=sent, failed=failed  # type: ignore[arg-type]
    )
    if advanced is None:
        return 0
    await _report(services, advanced)
    if cursor is not None:
        await _queue_batch(services, broadcast_id, after=cursor)
    return len(user_ids)


async def _report(services: Services, broadcast: Broadcast) -> None:
    progress = BroadcastView.of(broadcast).model_dump(mode="json")
    try:
        await services.bus.publish(
            user_room(broadcast.admin_id), BROADCAST_PROGRESS, progress, collapse_key=f"broadcast:{broadcast.id}"
        )
    except BusUnavailable as error:
        log.warning("broadcast progress not published", broadcast_id=str(broadcast.id), error=str(error))
