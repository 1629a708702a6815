"""What the file routes answer: an upload's form and ticket, and a file with its thumbnails."""

from datetime import datetime

from pydantic import BaseModel

from documents.stored_file import FileKind, FileStatus


class UploadForm(BaseModel):
    """POST these fields, then the file as the last part named `file`, as multipart/form-data to `url`."""

    url: str
    fields: dict[str, str]
    content_type: str
    max_bytes: int
    expires_at: str


class UploadTicket(BaseModel):
    file_id: str
    upload: UploadForm


class ThumbnailView(BaseModel):
    longest_side: int
    width: int
    height: int
    url: str


class FileView(BaseModel):
    """A file as a client sees it; `url` (the original, with its metadata) only for its owner and admins."""

    id: str
    kind: FileKind
    status: FileStatus
    content_type: str | None
    size: int | None
    created_at: datetime
    url: str | None
    thumbnails: list[ThumbnailView]
