"""Object storage for user files: the contract, the local and S3 adapters with their settings, photo processing."""

from providers.storage.base import ObjectInfo, ObjectStore, PresignedUpload, validate_key
from providers.storage.images import (
    ACCEPTED_IMAGE_TYPES,
    SNIFF_BYTES,
    THUMBNAIL_SIZES,
    Thumbnail,
    ThumbnailFormat,
    render_thumbnails,
    sniff_content_type,
    thumbnail_key,
    thumbnail_keys,
)
from providers.storage.local import LocalObjectStore, LocalStorageSettings, UploadGrant
from providers.storage.s3 import S3ObjectStore, S3StorageSettings

__all__ = [
    "ACCEPTED_IMAGE_TYPES",
    "SNIFF_BYTES",
    "THUMBNAIL_SIZES",
    "LocalObjectStore",
    "LocalStorageSettings",
    "ObjectInfo",
    "ObjectStore",
    "PresignedUpload",
    "S3ObjectStore",
    "S3StorageSettings",
    "Thumbnail",
    "ThumbnailFormat",
    "UploadGrant",
    "render_thumbnails",
    "sniff_content_type",
    "thumbnail_key",
    "thumbnail_keys",
    "validate_key",
]
