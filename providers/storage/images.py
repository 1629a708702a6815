"""Decide an upload's type from its bytes and render upright, metadata-free thumbnails of photos."""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from io import BytesIO

import filetype
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from providers.errors import VendorRejected

SNIFF_BYTES = 262  # the longest signature `filetype` inspects
THUMBNAIL_SIZES = (320, 800, 1600)
DEFAULT_MAX_PIXELS = 64_000_000  # above the largest phone sensors, far below what exhausts a worker
_PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP"}
ACCEPTED_IMAGE_TYPES = frozenset(_PILLOW_FORMATS)
_SRGB = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
_JPEG_BACKGROUND = (255, 255, 255)


class ThumbnailFormat(StrEnum):
    """Encodings thumbnails are published in."""

    JPEG = "jpeg"
    WEBP = "webp"

    @property
    def content_type(self) -> str:
        return f"image/{self.value}"

    @property
    def extension(self) -> str:
        return "jpg" if self is ThumbnailFormat.JPEG else self.value


@dataclass(frozen=True, slots=True)
class Thumbnail:
    """One rendered size of a photo, ready to `put` under its own key."""

    key: str
    longest_side: int
    width: int
    height: int
    content_type: str
    data: bytes


def sniff_content_type(first_bytes: bytes) -> str | None:
    """The MIME type the bytes themselves declare, or None when no known signature matches."""
    return filetype.guess_mime(first_bytes)


def thumbnail_key(key: str, longest_side: int, thumbnail_format: ThumbnailFormat = ThumbnailFormat.WEBP) -> str:
    """Where the thumbnail of `key` at one size lives; a suffix, so a key never has to be a folder too."""
    return f"{key}.w{longest_side}.{thumbnail_format.extension}"


def thumbnail_keys(
    key: str,
    sizes: Sequence[int] = THUMBNAIL_SIZES,
    thumbnail_format: ThumbnailFormat = ThumbnailFormat.WEBP,
) -> list[str]:
    """Every thumbnail key of `key`, for deleting a photo together with its renditions."""
    return [thumbnail_key(key, size, thumbnail_format) for size in sizes]


async def render_thumbnails(
    key: str,
    data: bytes,
    *,
    sizes: Sequence[int] = THUMBNAIL_SIZES,
    thumbnail_format: ThumbnailFormat = ThumbnailFormat.WEBP,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> list[Thumbnail]:
    """Render `data` at each longest-side size, upright, in sRGB and without EXIF, ICC, XMP or comments."""
    return await asyncio.to_thread(_render, key, data, tuple(sizes), thumbnail_format, max_pixels)


def _render(
    key: str, data: bytes, sizes: tuple[int, ...], thumbnail_format: ThumbnailFormat, max_pixels: int
) -> list[Thumbnail]:
    content_type = sniff_content_type(data[:SNIFF_BYTES])
    if content_type not in ACCEPTED_IMAGE_TYPES:
        raise VendorRejected(f"{content_type or 'unknown data'} is not an accepted photo", reason="unsupported_type")
    try:
        with Image.open(BytesIO(data), formats=[_PILLOW_FORMATS[content_type]]) as opened:
            # Only the header has been read so far: refuse a decompression bomb before decoding pixels.
            if opened.width * opened.height > max_pixels:
                raise VendorRejected(
                    f"photo of {opened.width}x{opened.height} exceeds {max_pixels} pixels", reason="too_many_pixels"
                )
            largest = max(sizes)
            opened.draft(None, (largest, largest))
            upright = _normalized_mode(_to_srgb(ImageOps.exif_transpose(opened)), thumbnail_format)
    except Image.DecompressionBombError as bomb:
        raise VendorRejected("photo has too many pixels", reason="too_many_pixels") from bomb
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as broken:
        raise VendorRejected("photo could not be decoded", reason="undecodable_image") from broken

    thumbnails = []
    # Largest first, each rendition resampled from the previous one: less work, same result at these ratios.
    current = upright
    for size in sorted(set(sizes), reverse=True):
        current = current.copy()
        current.thumbnail((size, size), Image.Resampling.LANCZOS)
        thumbnails.append(_encode(key, size, current, thumbnail_format))
    return sorted(thumbnails, key=lambda thumbnail: thumbnail.longest_side)


def _to_srgb(image: Image.Image) -> Image.Image:
    # Dropping a wide-gamut profile (Display P3 on most phones) without converting would wash colours out.
    icc_profile = image.info.get("icc_profile")
    if not icc_profile:
        return image
    output_mode = "RGBA" if "A" in image.getbands() else "RGB"
    try:
        source_profile = ImageCms.ImageCmsProfile(BytesIO(icc_profile))
        return ImageCms.profileToProfile(image, source_profile, _SRGB, outputMode=output_mode) or image
    except ImageCms.PyCMSError:
        return image


def _normalized_mode(image: Image.Image, thumbnail_format: ThumbnailFormat) -> Image.Image:
    has_alpha = "A" in image.getbands() or "transparency" in image.info
    if not has_alpha:
        return image.convert("RGB")
    with_alpha = image.convert("RGBA")
    if thumbnail_format is ThumbnailFormat.WEBP:
        return with_alpha
    flattened = Image.new("RGB", with_alpha.size, _JPEG_BACKGROUND)
    flattened.paste(with_alpha, mask=with_alpha.getchannel("A"))
    return flattened


def _encode(key: str, size: int, image: Image.Image, thumbnail_format: ThumbnailFormat) -> Thumbnail:
    # Pillow copies a few `info` entries (comments among them) into the output; nothing of the source may leak.
    image.info.clear()
    buffer = BytesIO()
    if thumbnail_format is ThumbnailFormat.JPEG:
        image.save(buffer, "JPEG", quality=82, optimize=True, progressive=True)
    else:
        image.save(buffer, "WEBP", quality=80, method=4)
    return Thumbnail(
        key=thumbnail_key(key, size, thumbnail_format),
        longest_side=size,
        width=image.width,
        height=image.height,
        content_type=thumbnail_format.content_type,
        data=buffer.getvalue(),
    )
