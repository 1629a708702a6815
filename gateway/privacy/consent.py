"""Marketing consent: an opt-in given to the wording the app showed, recorded with its time and version, and
withdrawn as easily. Transactional and security messages never depend on it."""

from beanie import PydanticObjectId

from documents.audit import AuditEvent, AuditKind
from documents.marketing_consent import MarketingConsent
from gateway.privacy.problems import ConsentWordingOutdated
from gateway.services import Services


async def record_marketing_choice(
    services: Services, user_id: str, *, granted: bool, wording_version: str
) -> MarketingConsent:
    """An opt-in counts only for the wording currently shown (privacy.marketing_wording_version); a withdrawal
    always counts."""
    current = services.settings.privacy.marketing_wording_version
    if granted and wording_version != current:
        raise ConsentWordingOutdated(f"the current wording is version {current}; show it and ask again",
                                     current_wording_version=current)  # fmt: skip
    consent = await MarketingConsent.record(user_id, granted=granted, wording_version=wording_version)
    await AuditEvent.record(
        AuditKind.MARKETING_CONSENT_CHANGED,
        user_id=PydanticObjectId(user_id),
        granted=granted,
        wording_version=wording_version,
    )
    return consent
