"""A person's own profile, edited with validation, and the public face others see of it."""

from typing import Annotated

from beanie import PydanticObjectId
from bson import ObjectId
from pydantic import Field, StringConstraints

from documents.host_application import ApplicationStatus, HostApplication
from documents.profile import Profile
from documents.user import User
from gateway.accounts.context import signed_in_user
from gateway.files.lifecycle import attachable_photos, file_view, readable_file
from gateway.files.problems import FileNotFound
from gateway.files.views import FileView
from gateway.input_types import DisplayText, ProseText
from gateway.problems import NotFound
from gateway.profiles.views import MyProfile, PublicProfile, RatingView
from gateway.request_models import RequestModel
from gateway.security.callers import Caller
from gateway.services import Services

DisplayName = Annotated[DisplayText, StringConstraints(min_length=1, max_length=50)]
Bio = Annotated[ProseText, StringConstraints(min_length=1, max_length=500)]
# An ISO 639-1 or 639-3 code: "sw", "en", "kik".
LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
FileId = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{24}$")]


class ProfileChanges(RequestModel):
    """Only the fields sent change; `null` clears the photo or the bio."""

    display_name: DisplayName | None = None
    photo_id: FileId | None = Field(None, description="a confirmed photo of your own (POST /v1/files)")
    bio: Bio | None = None
    languages: list[LanguageCode] | None = Field(None, max_length=10, description="ISO 639 codes, most fluent first")


async def update_profile(services: Services, caller: Caller, changes: ProfileChanges) -> MyProfile:
    await services.limits.hit("profile_changes_per_user", caller.user_id)
    sent = changes.model_fields_set
    values: dict[str, object] = {}
    if "display_name" in sent and changes.display_name is not None:
        values["display_name"] = changes.display_name
    if "photo_id" in sent:
        if changes.photo_id is not None:
            await attachable_photos(caller, [changes.photo_id])
        values["photo_id"] = changes.photo_id
    if "bio" in sent:
        values["bio"] = changes.bio
    if "languages" in sent and changes.languages is not None:
        values["languages"] = list(dict.fromkeys(changes.languages))
    profile = await Profile.write(caller.user_id, values) if values else await Profile.of(caller.user_id)
    return await my_profile(services, caller, await signed_in_user(caller), profile)


async def my_profile(services: Services, caller: Caller, user: User, profile: Profile | None = None) -> MyProfile:
    profile = profile or await Profile.of(caller.user_id)
    return MyProfile(
        user_id=caller.user_id,
        display_name=profile.display_name,
        photo=await _photo(services, caller, profile.photo_id),
        bio=profile.bio,
        languages=profile.languages,
        email=user.email,
        phone=user.phone,
        email_verified=user.email_verified_at is not None,
        phone_verified=user.phone_verified_at is not None,
        roles=list(user.roles),
        member_since=user.created_at,
        rating=RatingView.of(profile.rating_count, profile.rating_average),
    )


async def public_profile(services: Services, viewer: Caller, user_id: str) -> PublicProfile:
    """Anyone signed in sees a person's name, photo, languages, member-since date, badges and rating; no contact."""
    await services.limits.hit("profile_reads_per_user", viewer.user_id)
    user = await User.get(PydanticObjectId(user_id)) if ObjectId.is_valid(user_id) else None
    if user is None:
        raise NotFound("no such person")
    profile = await Profile.of(user_id)
    badges = [
        name
        for name, held in (("email_verified", user.email_verified_at), ("phone_verified", user.phone_verified_at))
        if held
    ]
    if await HostApplication.find_one({"user_id": user_id, "status": ApplicationStatus.APPROVED.value}):
        badges.append("identity_verified")
    if "agent" in user.roles:
        badges.append("host")
    return PublicProfile(
        user_id=user_id,
        display_name=profile.display_name,
        photo=await _photo(services, viewer, profile.photo_id),
        languages=profile.languages,
        member_since=user.created_at,
        badges=badges,
        rating=RatingView.of(profile.rating_count, profile.rating_average),
    )


async def _photo(services: Services, viewer: Caller, photo_id: str | None) -> FileView | None:
    """The profile photo as this viewer may see it; none once the file was deleted."""
    if photo_id is None:
        return None
    try:
        return await file_view(services, viewer, await readable_file(viewer, photo_id))
    except FileNotFound:
        return None
