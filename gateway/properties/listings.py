"""Agents' listings: create, change, publish, archive; admins unpublish. Descriptions are sanitised HTML."""

import types
import typing
from typing import Annotated, Any, Literal

import nh3
from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import BaseModel, Field, create_model, model_validator

from documents.property import (
    FILE_ID_PATTERN,
    Address,
    CancellationPolicy,
    GeoPoint,
    ListingStateConflict,
    Property,
    PropertyStatus,
    PropertyType,
)
from gateway.files.lifecycle import attachable_photos, delete_files
from gateway.input_types import DisplayedPlace, DisplayText, ProseText
from gateway.paging import newest_first
from gateway.pricing.inputs import StayRulesInput
from gateway.problems import Conflict, Forbidden, NotFound
from gateway.properties.search_cache import bump_search_version
from gateway.request_models import RequestModel, validate
from gateway.security.callers import Caller, require_admin
from gateway.services import Services

DESCRIPTION_TAGS = {"p", "br", "strong", "em", "b", "i", "u", "ul", "ol", "li", "h3", "h4", "blockquote"}

Amenity = Annotated[str, Field(pattern=r"^[a-z0-9_]{2,40}$")]
FileId = Annotated[str, Field(pattern=FILE_ID_PATTERN)]
Currency = Literal["KES", "USD"]
MAX_PRICE_MINOR = 10**11


class ListingNotEditable(Conflict):
    slug, title = "listing-state-conflict", "The listing is not in a state that allows this"


class ListingFields(RequestModel):
    """Everything an agent states about a listing; `description` is HTML, kept only in its safe subset."""

    title: Annotated[DisplayText, Field(min_length=3, max_length=120)]
    description: Annotated[ProseText, Field(max_length=20_000)]
    type: PropertyType
    bedrooms: Annotated[int, Field(ge=0, le=100)]
    bathrooms: Annotated[int, Field(ge=0, le=100)]
    max_guests: Annotated[int, Field(ge=1, le=1_000)]
    amenities: Annotated[list[Amenity], Field(max_length=60)] = []
    nightly_price_minor: Annotated[int, Field(gt=0, le=MAX_PRICE_MINOR)]
    cleaning_fee_minor: Annotated[int, Field(ge=0, le=10**10)] = 0
    currency: Currency = "KES"
    location: GeoPoint
    address: Annotated[Address, DisplayedPlace]
    photo_ids: Annotated[list[FileId], Field(max_length=40)] = []
    cover_photo_id: FileId | None = None
    cancellation_policy: CancellationPolicy = CancellationPolicy()
    stay_rules: StayRulesInput = StayRulesInput()

    @model_validator(mode="after")
    def _photos_are_consistent(self) -> "ListingFields":
        if len(set(self.photo_ids)) != len(self.photo_ids):
            raise ValueError("photo_ids must not repeat a photo")
        if self.cover_photo_id is not None and self.cover_photo_id not in self.photo_ids:
            raise ValueError("cover_photo_id must be one of photo_ids")
        return self


def _nullable(annotation: Any) -> bool:
    return typing.get_origin(annotation) in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation)


_NULLABLE_FIELDS = frozenset(name for name, info in ListingFields.model_fields.items() if _nullable(info.annotation))


def _refuse_nulls(self: BaseModel) -> BaseModel:
    nulls = [name for name in self.model_fields_set if getattr(self, name) is None and name not in _NULLABLE_FIELDS]
    if nulls:
        raise ValueError(f"{', '.join(sorted(nulls))} cannot be null")
    return self


def _optional(annotation: Any, constraints: list[Any]) -> Any:
    return (Annotated[annotation, *constraints] if constraints else annotation) | None


# The same fields, each optional: a PATCH names only what changes; the merged listing is validated whole.
ListingChanges = create_model(
    "ListingChanges",
    __base__=RequestModel,
    __validators__={"_no_nulls": model_validator(mode="after")(_refuse_nulls)},  # type: ignore[dict-item]
    **{name: (_optional(info.annotation, info.metadata), None) for name, info in ListingFields.model_fields.items()},
)


def sanitised_description(html: str) -> str:
    return nh3.clean(html, tags=DESCRIPTION_TAGS, attributes={}, strip_comments=True)


def _stored_fields(fields: ListingFields) -> dict[str, Any]:
    values = fields.model_dump()
    values["description_html"] = sanitised_description(values.pop("description"))
    if values["cover_photo_id"] is None and values["photo_ids"]:
        values["cover_photo_id"] = values["photo_ids"][0]
    values["amenities"] = sorted(set(values["amenities"]))
    return values


async def create_listing(services: Services, caller: Caller, fields: ListingFields) -> Property:
    await attachable_photos(caller, fields.photo_ids)
    listing = Property(agent_id=caller.user_id, **_stored_fields(fields))
    await listing.insert()
    return listing


async def listing_for(caller: Caller | None, listing_id: str) -> Property:
    """A listing the caller may see: published ones for everyone, drafts and archived ones for the owner and admins."""
    listing = await Property.get(PydanticObjectId(listing_id)) if ObjectId.is_valid(listing_id) else None
    if listing is None or not (listing.status == PropertyStatus.PUBLISHED or (caller and _manages(caller, listing))):
        raise NotFound("no such listing")
    return listing


async def managed_listing(caller: Caller, listing_id: str) -> Property:
    """A listing the caller owns (or any, for admins): 404 when they cannot see it, 403 when they only can see it."""
    listing = await listing_for(caller, listing_id)
    if not _manages(caller, listing):
        raise Forbidden("only the listing's agent may change it")
    return listing


async def agent_owns_listing(user_id: str, listing_id: str) -> bool:
    """Whether the listing exists and is this agent's, whatever its status."""
    listing = await Property.get(PydanticObjectId(listing_id)) if ObjectId.is_valid(listing_id) else None
    return listing is not None and listing.agent_id == user_id


def _manages(caller: Caller, listing: Property) -> bool:
    return caller.is_admin or listing.agent_id == caller.user_id


async def update_listing(services: Services, caller: Caller, listing_id: str, changes: BaseModel) -> Property:
    listing = await managed_listing(caller, listing_id)
    given = changes.model_dump(exclude_unset=True)
    await attachable_photos(caller, given.get("photo_ids") or [])
    current = listing.model_dump(include=set(ListingFields.model_fields) | {"description_html"})
    current["description"] = current.pop("description_html")
    if "photo_ids" in given and "cover_photo_id" not in given and current["cover_photo_id"] not in given["photo_ids"]:
        current["cover_photo_id"] = None
    merged = typing.cast(ListingFields, validate(ListingFields, {**current, **given}, location="body"))
    stored = _stored_fields(merged)
    try:
        updated = await listing.apply_changes({name: stored[name] for name in _stored_names(given)})
    except ListingStateConflict as error:
        raise ListingNotEditable(str(error)) from None
    await bump_search_version(services)
    return updated


def _stored_names(given: dict[str, Any]) -> set[str]:
    names = {"description_html" if name == "description" else name for name in given}
    if "photo_ids" in names:
        names.add("cover_photo_id")
    return names


async def publish_listing(services: Services, caller: Caller, listing_id: str) -> Property:
    listing = await managed_listing(caller, listing_id)
    return await _move(services, listing, PropertyStatus.PUBLISHED, (PropertyStatus.DRAFT,))


async def archive_listing(services: Services, caller: Caller, listing_id: str) -> Property:
    """Archiving is how a listing is deleted: it leaves search for good and its photos are removed."""
    listing = await managed_listing(caller, listing_id)
    archived = await _move(services, listing, PropertyStatus.ARCHIVED, (PropertyStatus.DRAFT, PropertyStatus.PUBLISHED))
    await delete_files(services, archived.photo_ids)
    return archived


async def unpublish_listing(services: Services, caller: Caller, listing_id: str) -> Property:
    """Admins take a published listing out of search; its agent can fix it and publish it again."""
    listing = await listing_for(caller, listing_id)
    return await _move(services, listing, PropertyStatus.DRAFT, (PropertyStatus.PUBLISHED,))


async def _move(
    services: Services, listing: Property, status: PropertyStatus, allowed_from: tuple[PropertyStatus, ...]
) -> Property:
    try:
        moved = await listing.move_to(status, allowed_from)
    except ListingStateConflict as error:
        raise ListingNotEditable(str(error)) from None
    await bump_search_version(services)
    return moved


async def listings_of_agent(caller: Caller, after: str | None, limit: int) -> tuple[list[Property], str | None]:
    """The caller's own listings in every state, newest first."""
    return await newest_first(Property, {"agent_id": caller.user_id}, after, limit)


async def listings_to_moderate(
    caller: Caller, status: PropertyStatus | None, after: str | None, limit: int
) -> tuple[list[Property], str | None]:
    """Admins: every agent's listings (in one status, or all), newest first."""
    require_admin(caller, "only admins moderate listings")
    return await newest_first(Property, {"status": status.value} if status else {}, after, limit)
