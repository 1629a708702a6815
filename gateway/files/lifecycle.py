"""Files after upload: who may see or delete them, how they are described, and how they are removed."""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from documents.stored_file import FileKind, FileStateConflict, FileStatus, StoredFile
from gateway.files.problems import FileNotFound, FileNotReady
from gateway.files.views import FileView, ThumbnailView
from gateway.jobs import every
from gateway.logs import get_logger
from gateway.security.callers import Caller
from gateway.services import Services
from providers.storage import ObjectStore, thumbnail_keys

log = get_logger("lango.files")
# An upload form outlives its signature by nothing; this margin covers a slow phone finishing its POST.
ABANDONED_AFTER_MARGIN = timedelta(hours=1)


async def _live_file(file_id: str) -> StoredFile:
    file = await StoredFile.get(PydanticObjectId(file_id)) if ObjectId.is_valid(file_id) else None
    if file is None or file.status is FileStatus.DELETED:
        raise FileNotFound()
    return file


def _manages(caller: Caller, file: StoredFile) -> bool:
    return caller.is_admin or file.owner_id == caller.user_id


async def owned_file(caller: Caller, file_id: str) -> StoredFile:
    """A live file the caller owns (or any, for admins); others' files do not exist for them."""
    file = await _live_file(file_id)
    if not _manages(caller, file):
        raise FileNotFound()
    return file


async def readable_file(caller: Caller, file_id: str) -> StoredFile:
    """Ready photos are shown on listings to anyone signed in; everything else only to its owner and admins."""
    file = await _live_file(file_id)
    if _manages(caller, file) or (file.kind is FileKind.PHOTO and file.status is FileStatus.READY):
        return file
    raise FileNotFound()


async def file_view(services: Services, caller: Caller, file: StoredFile) -> FileView:
    store = services.storage
    ttl_s = services.settings.storage.download_url_ttl_s
    ready = file.status is FileStatus.READY
    # A phone photo's EXIF can carry the home's GPS position: others get the stripped thumbnails only.
    original = ready and (_manages(caller, file) or file.kind is not FileKind.PHOTO)
    thumbnails = [
        ThumbnailView(
            longest_side=thumbnail.longest_side,
            width=thumbnail.width,
            height=thumbnail.height,
            url=await store.url(thumbnail.key, ttl_s),
        )
        for thumbnail in file.thumbnails
    ]
    return FileView(
        id=str(file.id),
        kind=file.kind,
        status=file.status,
        content_type=file.content_type,
        size=file.size,
        created_at=file.created_at,
        url=await store.url(file.key, ttl_s) if original else None,
        thumbnails=thumbnails,
    )


async def remove_objects(store: ObjectStore, file: StoredFile) -> None:
    """Delete the file's object, every rendition it has or could have half-made, and what its form may have left."""
    keys = {file.key, *(thumbnail.key for thumbnail in file.thumbnails), *thumbnail_keys(file.key), file.upload_key}
    await store.delete(sorted(keys))


async def delete_file(services: Services, caller: Caller, file_id: str) -> None:
    await _remove(services.storage, await owned_file(caller, file_id))


async def _remove(store: ObjectStore, file: StoredFile) -> None:
    # Objects first: should storage fail, the record stays live and the delete can be retried.
    await remove_objects(store, file)
    try:
        await file.mark_deleted()
    except FileStateConflict:
        log.info("file was already deleted", file_id=str(file.id))


async def attachable_photos(caller: Caller, file_ids: Iterable[str]) -> list[StoredFile]:
    """The ready photos behind `file_ids`, provided the caller owns every one (admins may use any)."""
    files = [await owned_file(caller, file_id) for file_id in dict.fromkeys(file_ids)]
    for file in files:
        if file.kind is not FileKind.PHOTO or file.status is not FileStatus.READY:
            raise FileNotReady(f"file {file.id} is not a confirmed photo")
    return files


async def delete_files(services: Services, file_ids: Iterable[str]) -> int:
    """Remove these files whoever owns them (a deleted or archived listing's photos); answers how many went."""
    ids = [PydanticObjectId(file_id) for file_id in file_ids if ObjectId.is_valid(file_id)]
    files = await StoredFile.find({"_id": {"$in": ids}, "status": {"$ne": FileStatus.DELETED.value}}).to_list()
    for file in files:
        await _remove(services.storage, file)
    return len(files)


async def sweep_abandoned(services: Services, now: datetime | None = None) -> int:
    """Remove uploads started but never confirmed once their form can no longer be used."""
    lifetime = timedelta(seconds=services.settings.storage.upload_url_ttl_s) + ABANDONED_AFTER_MARGIN
    cutoff = (now or datetime.now(UTC)) - lifetime
    abandoned = await StoredFile.find({"status": FileStatus.PENDING.value, "created_at": {"$lt": cutoff}}).to_list()
    for file in abandoned:
        await _remove(services.storage, file)
    return len(abandoned)


@every("23 * * * *")
async def sweep_abandoned_uploads(ctx: dict[str, Any]) -> int:
    return await sweep_abandoned(ctx["services"])
