"""Photo handling: types decided from bytes, thumbnails upright and stripped, oversized images refused."""

from io import BytesIO

import pytest
from PIL import Image

from providers.errors import VendorRejected
from providers.storage import (
    SNIFF_BYTES,
    THUMBNAIL_SIZES,
    ThumbnailFormat,
    render_thumbnails,
    sniff_content_type,
    thumbnail_keys,
)

pytest_plugins = ["tests.providers.conftest_storage"]


def _encoded(image: Image.Image, image_format: str) -> bytes:
    buffer = BytesIO()
    image.save(buffer, image_format)
    return buffer.getvalue()


def _close_to(pixel: tuple[int, ...], colour: tuple[int, ...]) -> bool:
    return all(abs(channel - wanted) < 40 for channel, wanted in zip(pixel, colour, strict=False))


@pytest.mark.parametrize(
    ("image_format", "content_type"),
    [("JPEG", "image/jpeg"), ("PNG", "image/png"), ("WEBP", "image/webp")],
)
def test_sniffing_names_the_type_the_bytes_carry(image_format: str, content_type: str) -> None:
    data = _encoded(Image.new("RGB", (8, 8)), image_format)

    assert sniff_content_type(data[:SNIFF_BYTES]) == content_type


def test_sniffing_sees_through_a_file_that_only_claims_to_be_a_photo() -> None:
    assert sniff_content_type(b"<html><script>alert(1)</script></html>") is None
    assert sniff_content_type(b"%PDF-1.7\n" + b"\x00" * 300) == "application/pdf"


@pytest.mark.parametrize("thumbnail_format", list(ThumbnailFormat))
async def test_thumbnails_are_upright_sized_and_free_of_metadata(
    storage_sideways_photo: bytes, thumbnail_format: ThumbnailFormat
) -> None:
    with Image.open(BytesIO(storage_sideways_photo)) as stored:
        assert stored.size == (400, 200)
        stored_left, stored_right = stored.getpixel((10, 100)), stored.getpixel((390, 100))

    thumbnails = await render_thumbnails("listings/l1/p1", storage_sideways_photo, thumbnail_format=thumbnail_format)

    assert [thumbnail.longest_side for thumbnail in thumbnails] == list(THUMBNAIL_SIZES)
    expected_keys = thumbnail_keys("listings/l1/p1", THUMBNAIL_SIZES, thumbnail_format)
    assert [thumbnail.key for thumbnail in thumbnails] == expected_keys
    for thumbnail in thumbnails:
        with Image.open(BytesIO(thumbnail.data)) as rendered:
            assert rendered.format == thumbnail_format.name
            assert thumbnail.content_type == thumbnail_format.content_type
            # Stored 400x200 with orientation 6: shown 200x400, never upscaled beyond the source.
            assert rendered.size == (thumbnail.width, thumbnail.height)
            assert rendered.height == min(thumbnail.longest_side, 400)
            assert rendered.width == rendered.height // 2
            assert not rendered.getexif()
            assert not {"exif", "icc_profile", "xmp", "comment"} & set(rendered.info)
            rgb = rendered.convert("RGB")
            # The stored left half is the visual top once "rotate 90° clockwise" is applied.
            assert _close_to(rgb.getpixel((rgb.width // 2, rgb.height // 8)), stored_left)
            assert _close_to(rgb.getpixel((rgb.width // 2, rgb.height * 7 // 8)), stored_right)


async def test_a_jpeg_comment_does_not_ride_along_into_jpeg_thumbnails() -> None:
    buffer = BytesIO()
    Image.new("RGB", (500, 500)).save(buffer, "JPEG", comment=b"Flat 4B, Kilimani, call 0712345678")

    thumbnails = await render_thumbnails("p", buffer.getvalue(), sizes=[320], thumbnail_format=ThumbnailFormat.JPEG)

    with Image.open(BytesIO(thumbnails[0].data)) as rendered:
        assert "comment" not in rendered.info


async def test_jpeg_thumbnails_flatten_transparency_onto_white() -> None:
    transparent = _encoded(Image.new("RGBA", (600, 300), (0, 0, 0, 0)), "PNG")

    thumbnails = await render_thumbnails("p", transparent, sizes=[320], thumbnail_format=ThumbnailFormat.JPEG)

    assert thumbnails[0].key == "p.w320.jpg"
    with Image.open(BytesIO(thumbnails[0].data)) as rendered:
        assert rendered.format == "JPEG"
        assert rendered.size == (320, 160)
        assert _close_to(rendered.getpixel((10, 10)), (255, 255, 255))


async def test_a_file_that_is_not_a_photo_is_refused_whatever_it_claims() -> None:
    with pytest.raises(VendorRejected) as refused:
        await render_thumbnails("p", b"GIF89a but really a script" + b"\x00" * 300)

    assert refused.value.reason == "unsupported_type"


async def test_a_truncated_photo_is_refused(storage_sideways_photo: bytes) -> None:
    with pytest.raises(VendorRejected) as refused:
        await render_thumbnails("p", storage_sideways_photo[: len(storage_sideways_photo) // 3])

    assert refused.value.reason == "undecodable_image"


async def test_an_image_with_too_many_pixels_is_refused_before_decoding() -> None:
    wide = _encoded(Image.new("L", (4000, 3000)), "PNG")

    with pytest.raises(VendorRejected) as refused:
        await render_thumbnails("p", wide, max_pixels=4000 * 3000 - 1)

    assert refused.value.reason == "too_many_pixels"
