"""The adapters for object storage, maps and analytics, built from settings at start-up."""

import secrets

import httpx

from gateway.logs import get_logger
from gateway.settings import Settings
from providers.analytics import AnalyticsSink, PostHogConfig, create_analytics_sink
from providers.maps import GoogleMapsConfig, MapsProvider, create_maps_provider
from providers.storage import LocalStoreConfig, ObjectStore, S3StoreConfig, create_object_store

log = get_logger("lango.vendors")
# Where the local store's signed forms are posted and its signed downloads served (handlers.files routes them).
LOCAL_UPLOAD_PATH = "/storage/local/upload"
LOCAL_DOWNLOAD_PATH = "/storage/local/objects"


def create_store(settings: Settings) -> ObjectStore:
    """The configured object store; the local one signs with a generated secret when none is configured."""
    storage = settings.storage
    if storage.provider == "s3":
        return create_object_store("s3", S3StoreConfig.model_validate(storage.s3.model_dump()))
    signing_secret = storage.local.signing_secret
    if signing_secret is None:
        # Production refuses to start without one (Settings); here, signed URLs simply die with the process.
        log.warning("storage.local.signing_secret is not set: using a random one until the process stops")
        signing_secret = secrets.token_urlsafe(48)
    config = LocalStoreConfig(
        root=storage.local.root,
        public_base_url=settings.server.public_url,
        upload_path=LOCAL_UPLOAD_PATH,
        download_path=LOCAL_DOWNLOAD_PATH,
        signing_secret=signing_secret,
    )
    return create_object_store("local", config)


def create_maps(settings: Settings, http: httpx.AsyncClient) -> MapsProvider:
    maps = settings.maps
    options = GoogleMapsConfig.model_validate(maps.google.model_dump()) if maps.provider == "google" else None
    return create_maps_provider(maps.provider, options, http=http)


def create_sink(settings: Settings, http: httpx.AsyncClient) -> AnalyticsSink:
    analytics = settings.analytics
    options = PostHogConfig.model_validate(analytics.posthog.model_dump()) if analytics.provider == "posthog" else None
    return create_analytics_sink(analytics.provider, options, http=http)
