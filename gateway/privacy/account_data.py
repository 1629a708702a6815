"""The account's own personal data: its profile, sessions, codes, sign-up attempts, audit trail and API keys."""

from typing import Any

from beanie import PydanticObjectId

from documents.api_key import ApiKey
from documents.audit import AuditEvent
from documents.holder_gate import HolderGate
from documents.otp import OneTimeCode
from documents.pending_signup import PendingSignup
from documents.session import Session
from documents.user import User
from gateway.accounts.sessions import revoke_other_sessions
from gateway.privacy.records import delete_documents, export_documents, redact
from gateway.privacy.registry import DataSubject, PersonalData
from gateway.services import Services


def _oid(subject: DataSubject) -> PydanticObjectId:
    return PydanticObjectId(subject.user_id)


def _contact_points(subject: DataSubject) -> dict[str, Any]:
    either = [{"email": subject.email}] if subject.email else []
    either += [{"phone": subject.phone}] if subject.phone else []
    # An account without either matches nothing.
    return {"$or": either} if either else {"_id": None}


async def _end_sessions(services: Services, subject: DataSubject) -> None:
    """Revoke every session (access tokens stop working and sockets close at once), then forget them."""
    await revoke_other_sessions(services, _oid(subject), keep=None, because="account_deleted")
    await Session.get_pymongo_collection().delete_many({"user_id": _oid(subject)})


async def _pseudonymise_audit(services: Services, subject: DataSubject) -> None:
    """The security log keeps what happened (until its retention ends) under the pseudonym, without addresses."""
    collection = AuditEvent.get_pymongo_collection()
    pseudonym = PydanticObjectId(subject.pseudonym)
    for role in ("user_id", "actor_id"):
        async for raw in collection.find({role: _oid(subject)}, {"details": 1}):
            await collection.update_one(
                {"_id": raw["_id"]},
                {
                    "$set": {
                        role: pseudonym,
                        "client_address": None,
                        "details": redact(raw.get("details", {}), subject.needles),
                    }
                },
            )


ACCOUNT = PersonalData(
    "account",
    "the profile: email, phone, roles, when it was created and last signed in",
    erase=delete_documents(User, lambda s: {"_id": _oid(s)}),
    export=export_documents(
        User,
        lambda s: {"_id": _oid(s)},
        hidden=("password_hash", "totp_secret", "totp_pending_secret", "backup_code_hashes"),
    ),
)
SESSIONS = PersonalData(
    "sessions",
    "signed-in devices: name, client address, when seen",
    erase=_end_sessions,
    export=export_documents(Session, lambda s: {"user_id": _oid(s)}, hidden=("refresh_hash", "used_refresh_hashes")),
)
ONE_TIME_CODES = PersonalData(
    "one_time_codes",
    "hashed codes sent to verify contact points",
    erase=delete_documents(OneTimeCode, lambda s: {"user_id": _oid(s)}),
)
PENDING_SIGNUPS = PersonalData(
    "pending_signups",
    "sign-ups not finished with the same email or phone",
    erase=delete_documents(PendingSignup, _contact_points),
)
AUDIT_LOG = PersonalData(
    "audit_log",
    "security events about the account and done by it",
    erase=_pseudonymise_audit,
    export=export_documents(AuditEvent, lambda s: {"$or": [{"user_id": _oid(s)}, {"actor_id": _oid(s)}]}),
)
API_KEYS = PersonalData(
    "api_keys",
    "an agent's keys for channel managers",
    erase=delete_documents(ApiKey, lambda s: {"$or": [{"agent_id": s.user_id}, {"created_by": s.user_id}]}),
    export=export_documents(ApiKey, lambda s: {"agent_id": s.user_id}, hidden=("secret_hash", "previous_secret_hash")),
)
HOLD_COUNTERS = PersonalData(
    "hold_counters",
    "how many holds the account started",
    erase=delete_documents(HolderGate, lambda s: {"_id": s.user_id}),
)
