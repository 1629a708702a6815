"""What a person shows of themselves (the public profile) and their applications to host."""

from documents.host_application import ApplicationStatus, HostApplication
from documents.profile import Profile
from gateway.privacy.records import ERASED, delete_documents, export_documents, id_or_pseudonym, pseudonymise_documents
from gateway.privacy.registry import DataSubject, PersonalData
from gateway.services import Services


def _own(subject: DataSubject) -> dict[str, str]:
    return {"user_id": subject.user_id}


async def _erase_applications(services: Services, subject: DataSubject) -> None:
    """An approval is the record that the identity of someone later paid out was checked, and by whom: it stays under
    the pseudonym without the payout phone or the reason. Any other application goes; one still awaiting a decision
    goes with it (withdrawn by the erasure). The identity document itself is the person's file, removed with them."""
    collection = HostApplication.get_pymongo_collection()
    approved = ApplicationStatus.APPROVED.value
    await collection.delete_many({"user_id": subject.user_id, "status": {"$ne": approved}})
    keep = pseudonymise_documents(
        HostApplication,
        lambda s: {**id_or_pseudonym("user_id")(s), "status": approved},
        lambda s: {"user_id": s.pseudonym, "payout_phone": ERASED, "reason": None},
    )
    await keep(services, subject)
    # Applications the person decided as an admin name the pseudonym.
    await collection.update_many({"decided_by": subject.user_id}, {"$set": {"decided_by": subject.pseudonym}})


PROFILE = PersonalData(
    "profile",
    "the public profile: display name, photo, bio, languages, and the rating others gave",
    erase=delete_documents(Profile, _own),
    export=export_documents(Profile, _own),
)
HOST_APPLICATIONS = PersonalData(
    "host_applications",
    "applications to host: the identity document given, the payout phone, the decision and its reason",
    erase=_erase_applications,
    export=export_documents(HostApplication, _own),
)
