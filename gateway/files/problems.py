"""The problems file routes answer with, each with a stable type a client can act on."""

from gateway.problems import Conflict, Forbidden, NotFound, PayloadTooLarge, ServiceUnavailable, ValidationFailed


class FileNotFound(NotFound):
    slug, title = "file-not-found", "No such file"


class UploadMissing(Conflict):
    slug, title = "upload-missing", "Nothing has been uploaded for this file yet"


class FileTooLarge(PayloadTooLarge):
    slug, title = "file-too-large", "The file is larger than allowed"


class FileTypeRefused(ValidationFailed):
    slug, title = "file-type-refused", "The file's content is not of a type accepted here"


class FileNotReady(Conflict):
    slug, title = "file-not-ready", "The file has not been confirmed yet"


class SignatureRefused(Forbidden):
    slug, title = "signature-refused", "The signed URL or upload form is invalid or has expired"


class StorageUnavailable(ServiceUnavailable):
    slug, title = "storage-unavailable", "File storage is unavailable; try again later"
