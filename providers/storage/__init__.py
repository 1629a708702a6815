"""Object storage for user files: the contract, the local and S3 adapters, photo processing, the registry."""

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel

from providers.registry import AdapterResources, AdapterSpec, build_adapter
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
from providers.storage.local import LocalObjectStore, LocalStoreConfig, UploadGrant
from providers.storage.s3 import S3ObjectStore, S3StoreConfig

STORAGE_PROVIDERS: Mapping[str, AdapterSpec[ObjectStore]] = {
    "local": AdapterSpec(LocalStoreConfig, lambda config, _: LocalObjectStore(config)),
    "s3": AdapterSpec(S3StoreConfig, lambda config, _: S3ObjectStore(config)),
}


def create_object_store(name: str, options: Mapping[str, Any] | BaseModel | None = None) -> ObjectStore:
    """The object store configured as `name` (local, s3) with its settings."""
    return build_adapter("storage", STORAGE_PROVIDERS, name, options or {}, AdapterResources())

__all__ = [
    "ACCEPTED_IMAGE_TYPES",
    "SNIFF_BYTES",
    "STORAGE_PROVIDERS",
    "THUMBNAIL_SIZES",
    "LocalObjectStore",
    "LocalStoreConfig",
    "ObjectInfo",
    "ObjectStore",
    "PresignedUpload",
    "S3ObjectStore",
    "S3StoreConfig",
    "Thumbnail",
    "ThumbnailFormat",
    "UploadGrant",
    "create_object_store",
    "render_thumbnails",
    "sniff_content_type",
    "thumbnail_key",
    "thumbnail_keys",
    "validate_key",
]
