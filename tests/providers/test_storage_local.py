"""The local-disk store: signed upload and download URLs, size bounds, and keys that cannot escape the root."""

from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlsplit

import pytest

from providers.errors import ProviderMisconfigured, SignatureInvalid, VendorRejected
from providers.storage import LocalObjectStore, LocalStorageSettings

SECRET = "s" * 40
ROUTES = {"upload_url": "https://api.lango.test/v1/files/upload", "download_url": "https://api.lango.test/v1/files"}
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


class SteppingClock:
    """A clock the test moves by hand, so expiry is proven without waiting."""

    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock() -> SteppingClock:
    return SteppingClock()


@pytest.fixture
def store(tmp_path: Path, clock: SteppingClock) -> LocalObjectStore:
    return LocalObjectStore(LocalStorageSettings(root=tmp_path), **ROUTES, signing_secret=SECRET, clock=clock)


def _download_parts(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    assert f"{parts.scheme}://{parts.netloc}" == "https://api.lango.test"
    query = parse_qs(parts.query)
    key = unquote(parts.path.removeprefix("/v1/files/"))
    return key, query["expires"][0], query["signature"][0]


async def test_a_signed_upload_round_trips_through_the_gateway_route(store: LocalObjectStore) -> None:
    upload = await store.presign_upload("listings/l1/p1", "image/jpeg", 1000, 300)
    assert upload.url == "https://api.lango.test/v1/files/upload"
    assert upload.expires_at == START + timedelta(seconds=300)

    grant = store.verify_upload_signature(upload.fields)
    await store.store_upload(grant, b"\xff\xd8\xff" + b"x" * 97)

    info = await store.head("listings/l1/p1")
    assert info is not None
    assert (info.size, info.content_type) == (100, "image/jpeg")
    assert await store.read_prefix("listings/l1/p1", 3) == b"\xff\xd8\xff"
    assert len(await store.get("listings/l1/p1")) == 100


@pytest.mark.parametrize(
    ("field", "forged"),
    [
        ("key", "listings/l1/other"),
        ("Content-Type", "text/html"),
        ("x-lango-max-bytes", "1000000000"),
        ("x-lango-expires", "4102444800"),
        ("x-lango-signature", "0" * 64),
    ],
)
async def test_any_change_to_a_signed_upload_form_is_refused(store: LocalObjectStore, field: str, forged: str) -> None:
    upload = await store.presign_upload("listings/l1/p1", "image/jpeg", 1000, 300)

    with pytest.raises(SignatureInvalid) as refused:
        store.verify_upload_signature({**upload.fields, field: forged})

    assert refused.value.reason == "bad_signature"


async def test_an_upload_form_is_refused_once_expired(store: LocalObjectStore, clock: SteppingClock) -> None:
    upload = await store.presign_upload("listings/l1/p1", "image/jpeg", 1000, 300)
    clock.now = START + timedelta(seconds=299)
    store.verify_upload_signature(upload.fields)

    clock.now = START + timedelta(seconds=300)
    with pytest.raises(SignatureInvalid) as refused:
        store.verify_upload_signature(upload.fields)

    assert refused.value.reason == "expired"


async def test_an_upload_form_missing_a_field_is_refused(store: LocalObjectStore) -> None:
    upload = await store.presign_upload("listings/l1/p1", "image/jpeg", 1000, 300)
    fields = dict(upload.fields)
    del fields["x-lango-max-bytes"]

    with pytest.raises(SignatureInvalid):
        store.verify_upload_signature(fields)


async def test_an_upload_above_the_signed_size_is_refused_and_not_stored(store: LocalObjectStore) -> None:
    upload = await store.presign_upload("listings/l1/p1", "image/jpeg", 1000, 300)
    grant = store.verify_upload_signature(upload.fields)

    with pytest.raises(VendorRejected) as refused:
        await store.store_upload(grant, b"x" * 1001)

    assert refused.value.reason == "entity_too_large"
    assert await store.head("listings/l1/p1") is None


async def test_a_signed_download_url_verifies_until_it_expires(store: LocalObjectStore, clock: SteppingClock) -> None:
    await store.put("listings/l1/p+1=a.jpg", b"photo", "image/jpeg")
    key, expires, signature = _download_parts(await store.url("listings/l1/p+1=a.jpg", 60))

    assert key == "listings/l1/p+1=a.jpg"
    store.verify_download_signature("listings/l1/p+1=a.jpg", expires, signature)
    with pytest.raises(SignatureInvalid):
        store.verify_download_signature("listings/l1/p2.jpg", expires, signature)
    with pytest.raises(SignatureInvalid):
        store.verify_download_signature("listings/l1/p+1=a.jpg", str(int(expires) + 3600), signature)
    with pytest.raises(SignatureInvalid):
        store.verify_download_signature("listings/l1/p+1=a.jpg", expires, signature[:-1] + "0")

    clock.now = START + timedelta(seconds=61)
    with pytest.raises(SignatureInvalid) as refused:
        store.verify_download_signature("listings/l1/p+1=a.jpg", expires, signature)
    assert refused.value.reason == "expired"


async def test_a_url_signed_with_another_secret_is_refused(tmp_path: Path, store: LocalObjectStore) -> None:
    settings = LocalStorageSettings(root=tmp_path)
    other = LocalObjectStore(settings, **ROUTES, signing_secret="t" * 40, clock=lambda: START)
    _, expires, signature = _download_parts(await other.url("listings/l1/p1", 60))

    with pytest.raises(SignatureInvalid):
        store.verify_download_signature("listings/l1/p1", expires, signature)


@pytest.mark.parametrize(
    "key",
    ["../escape", "listings/../../escape", "/etc/passwd", "listings/a\x00b", "listings//a", ".hidden", "a\\..\\b", ""],
)
async def test_keys_that_could_leave_the_root_are_refused(store: LocalObjectStore, key: str) -> None:
    with pytest.raises(VendorRejected):
        await store.put(key, b"x", "text/plain")
    with pytest.raises(VendorRejected):
        await store.presign_upload(key, "image/jpeg", 10, 60)
    with pytest.raises(VendorRejected):
        await store.get(key)


async def test_a_symlink_planted_in_the_root_does_not_lead_outside(tmp_path: Path, store: LocalObjectStore) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside"
    outside.mkdir()
    (tmp_path / "objects").mkdir()
    (tmp_path / "objects" / "listings").symlink_to(outside, target_is_directory=True)

    with pytest.raises(VendorRejected):
        await store.put("listings/p1", b"x", "text/plain")

    assert not any(outside.iterdir())


async def test_delete_removes_objects_ignores_missing_ones_and_prunes_folders(
    tmp_path: Path, store: LocalObjectStore
) -> None:
    await store.put("listings/l1/p1", b"a", "image/jpeg")
    await store.put("listings/l1/p1.w320.webp", b"b", "image/webp")

    await store.delete(["listings/l1/p1", "listings/l1/p1.w320.webp", "listings/l1/never-there"])

    assert await store.head("listings/l1/p1") is None
    assert await store.head("listings/l1/p1.w320.webp") is None
    assert not (tmp_path / "objects" / "listings").exists()
    with pytest.raises(VendorRejected) as missing:
        await store.get("listings/l1/p1")
    assert missing.value.reason == "not_found"


def test_the_local_store_refuses_a_short_secret(tmp_path: Path) -> None:
    with pytest.raises(ProviderMisconfigured, match=r"storage\.local\.signing_secret must be at least 32 characters"):
        LocalObjectStore(LocalStorageSettings(root=tmp_path), **ROUTES, signing_secret="s" * 31)


async def test_a_move_takes_the_bytes_and_type_and_leaves_the_source_free(tmp_path: Path, store: LocalObjectStore) -> None:
    await store.put("uploads/u1/f1", b"photo-bytes", "image/jpeg")

    await store.move("uploads/u1/f1", "files/u1/f1.a1")

    moved = await store.head("files/u1/f1.a1")
    assert moved is not None and moved.content_type == "image/jpeg"
    assert await store.get("files/u1/f1.a1") == b"photo-bytes"
    assert not (tmp_path / "objects" / "uploads").exists()
    with pytest.raises(VendorRejected) as missing:
        await store.move("uploads/u1/never-posted", "files/u1/f2.a1")
    assert missing.value.reason == "not_found"
