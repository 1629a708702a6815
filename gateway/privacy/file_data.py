"""The person's files in object storage (photos with their thumbnails, documents), and archives of their data."""

import mimetypes

from documents.privacy_request import PrivacyRequest, RequestKind
from documents.stored_file import FileStatus, StoredFile
from gateway.files.lifecycle import remove_objects
from gateway.privacy.records import as_json
from gateway.privacy.registry import DataSubject, Exported, PersonalData
from gateway.services import Services


async def _export_files(services: Services, subject: DataSubject) -> Exported:
    files = await StoredFile.find({"owner_id": subject.user_id, "status": FileStatus.READY.value}).to_list()
    exported = Exported([as_json(file.model_dump(exclude={"revision_id"})) for file in files])
    for file in files:
        extension = mimetypes.guess_extension(file.content_type or "") or ""
        exported.files[f"{file.id}{extension}"] = await services.storage.get(file.key)
    return exported


async def _erase_files(services: Services, subject: DataSubject) -> None:
    # Objects first: should storage fail, the records stay and the erasure runs again.
    for file in await StoredFile.find({"owner_id": subject.user_id}).to_list():
        await remove_objects(services.storage, file)
        await file.delete()


async def _erase_archives(services: Services, subject: DataSubject) -> None:
    """Archives made for the person go, and the record of each export with them."""
    exports = await PrivacyRequest.find({"kind": RequestKind.EXPORT.value, "user_id": subject.user_id}).to_list()
    keys = [request.archive_key for request in exports if request.archive_key]
    if keys:
        await services.storage.delete(keys)
    await PrivacyRequest.find({"kind": RequestKind.EXPORT.value, "user_id": subject.user_id}).delete()


FILES = PersonalData(
    "files", "uploaded photos and documents, and their thumbnails", erase=_erase_files, export=_export_files
)
ARCHIVES = PersonalData("data_exports", "archives of the person's data made on their request", erase=_erase_archives)
