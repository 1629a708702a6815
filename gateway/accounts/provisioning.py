"""Accounts an operator makes from the server's command line: confirmed at once, with the roles given, audited."""

from dataclasses import dataclass
from datetime import UTC, datetime

from beanie import PydanticObjectId
from pydantic import TypeAdapter, ValidationError
from pymongo.errors import DuplicateKeyError

from documents.audit import AuditEvent, AuditKind
from documents.user import Role, User
from gateway.accounts.identifiers import Email, PhoneNumber
from gateway.problems import Conflict, ValidationFailed
from gateway.security.passwords import check_password_strength
from gateway.services import Services

_EMAIL: TypeAdapter[str] = TypeAdapter(Email)
_PHONE: TypeAdapter[str] = TypeAdapter(PhoneNumber)


class ContactPointsTaken(Conflict):
    slug, title = "contact-points-taken", "These contact points belong to different accounts"


class IdentifierInvalid(ValidationFailed):
    slug, title = "identifier-invalid", "Not an account id, email or phone number"


@dataclass(frozen=True)
class Provisioned:
    user: User
    # False when an account with exactly these contact points was there already: it is answered unchanged.
    created: bool


def parse_contact_points(email: str | None, phone: str | None) -> tuple[str | None, str | None]:
    """The email lower-cased and the phone in E.164, as sign-up stores them; a malformed one is refused."""
    try:
        return (_EMAIL.validate_python(email) if email else None, _PHONE.validate_python(phone) if phone else None)
    except ValidationError as error:
        raise IdentifierInvalid(error.errors()[0]["msg"]) from None


async def account_named(identifier: str) -> User | None:
    """The account an operator names by its id, its email or its phone number."""
    if PydanticObjectId.is_valid(identifier) and len(identifier) == 24:
        return await User.get(PydanticObjectId(identifier))
    if "@" in identifier:
        email, _ = parse_contact_points(identifier, None)
        return await User.by_login(email=email, phone=None)
    _, phone = parse_contact_points(None, identifier)
    return await User.by_login(email=None, phone=phone)


async def provision_account(
    services: Services, *, email: str | None, phone: str | None, password: str, roles: list[Role], via: str
) -> Provisioned:
    """Create a confirmed account with `roles` (beside guest), or answer the one that already has exactly these contact
    points, unchanged: running the same command twice makes one account. Weak passwords are refused as at sign-up."""
    email, phone = parse_contact_points(email, phone)
    if email is None and phone is None:
        raise IdentifierInvalid("give an email, a phone number, or both")
    check_password_strength(password, min_length=services.settings.auth.password_min_length, personal=(email, phone))
    existing = await _holder_of(email, phone)
    if existing is not None:
        return Provisioned(existing, created=False)
    now = datetime.now(UTC)
    user = User(
        email=email,
        phone=phone,
        email_verified_at=now if email else None,
        phone_verified_at=now if phone else None,
        password_hash=await services.passwords.hash(password),
        roles=["guest", *(role for role in roles if role != "guest")],
    )
    try:
        await user.insert()
    except DuplicateKeyError:
        # Made meanwhile by another run, or the address taken by a sign-up: the same answer as finding it first.
        holder = await _holder_of(email, phone)
        if holder is None:
            raise
        return Provisioned(holder, created=False)
    await AuditEvent.record(AuditKind.ACCOUNT_CREATED, user_id=user.id, via=via, roles=list(user.roles))
    return Provisioned(user, created=True)


async def _holder_of(email: str | None, phone: str | None) -> User | None:
    """The one account holding every contact point given, if any holds them; two contact points held by two accounts,
    or one held by an account with another in its place, conflict."""
    by_email = await User.by_login(email=email, phone=None) if email else None
    by_phone = await User.by_login(email=None, phone=phone) if phone else None
    holders = {holder.id: holder for holder in (by_email, by_phone) if holder is not None}
    if not holders:
        return None
    holder = next(iter(holders.values()))
    if len(holders) > 1 or (email and holder.email != email) or (phone and holder.phone != phone):
        raise ContactPointsTaken("an account already holds one of these contact points with others; name it exactly")
    return holder
