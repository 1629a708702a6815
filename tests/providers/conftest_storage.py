"""Fixtures for the storage tests: moto's S3 server over real HTTP, and phone-like photos."""

from collections.abc import Iterator
from io import BytesIO

import pytest
from moto.server import ThreadedMotoServer
from PIL import Image, ImageCms

EXIF_ORIENTATION = 0x0112
EXIF_MAKE = 0x010F
ROTATED_90_CLOCKWISE = 6
STORED_SIZE = (400, 200)


@pytest.fixture(scope="session")
def storage_moto_endpoint() -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    try:
        yield f"http://{host}:{port}"
    finally:
        server.stop()
        # moto's stop() ends the serving thread but leaves the listening socket open.
        server._server.server_close()


@pytest.fixture(scope="session")
def storage_sideways_photo() -> bytes:
    """A 400x200 JPEG as a phone stores it: left half red, right half blue, EXIF saying "rotate 90° clockwise",
    plus a camera make, a comment and an ICC profile that must not survive into thumbnails."""
    image = Image.new("RGB", STORED_SIZE, (20, 20, 220))
    image.paste((220, 20, 20), (0, 0, STORED_SIZE[0] // 2, STORED_SIZE[1]))
    exif = Image.Exif()
    exif[EXIF_ORIENTATION] = ROTATED_90_CLOCKWISE
    exif[EXIF_MAKE] = "Lango Test Phone"
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    buffer = BytesIO()
    image.save(buffer, "JPEG", exif=exif, comment=b"taken at home", icc_profile=srgb, quality=95)
    return buffer.getvalue()
