"""The adapters for object storage, maps and analytics, built from settings at start-up."""

import secrets

import httpx

from gateway.logs import get_logger
from gateway.settings import Settings
from providers.analytics import AnalyticsSink, create_analytics_sink
from providers.maps import MapsProvider, create_maps_provider
from providers.storage import LocalObjectStore, ObjectStore, S3ObjectStore

log = get_logger("lango.vendors")
# Where the local store's signed forms are posted and its signed downloads served (handlers.files routes them).
LOCAL_UPLOAD_PATH = "/storage/local/upload"
LOCAL_DOWNLOAD_PATH = "/storage/local/objects"


def create_store(settings: Settings) -> ObjectStore:
    """The configured object store; the local one signs with a generated secret when none is configured."""
    storage = settings.storage
    if storage.provider == "s3":
        return S3ObjectStore(storage.s3)
    signing_secret = storage.local.signing_secret
    if signing_secret is None:
        # Production refuses to start without one (Settings); here, signed URLs simply die with the process.
        log.warning("storage.local.signing_secret is not set: using a random one until the process stops")
    public_url = settings.server.public_url.rstrip("/")
    return LocalObjectStore(
        storage.local,
        upload_url=public_url + LOCAL_UPLOAD_PATH,
        download_url=public_url + LOCAL_DOWNLOAD_PATH,
        signing_secret=signing_secret.get_secret_value() if signing_secret else secrets.token_urlsafe(48),
    )


def create_maps(settings: Settings, http: httpx.AsyncClient) -> MapsProvider:
    return create_maps_provider(settings.maps.provider, settings.maps.google, http=http)


def create_sink(settings: Settings, http: httpx.AsyncClient) -> AnalyticsSink:
    return create_analytics_sink(settings.analytics.provider, settings.analytics.posthog, http=http)
