"""Photos for the demo's listings, drawn here with Pillow: a sky, the land, the house and its name, as a JPEG."""

import asyncio
from io import BytesIO

from PIL import Image, ImageColor, ImageDraw, ImageFont

WIDTH, HEIGHT = 1200, 800
HORIZON = 520


def _blend(first: tuple[int, ...], second: tuple[int, ...], share: float) -> tuple[int, ...]:
    return tuple(round(a + (b - a) * share) for a, b in zip(first, second, strict=True))


def _draw(title: str, palette: tuple[str, str, str], view: int) -> bytes:
    sky, ground, walls = (ImageColor.getrgb(colour) for colour in palette)
    # The second view is the same place at dusk.
    top = _blend(sky, (40, 30, 90), 0.6) if view else _blend(sky, (255, 255, 255), 0.35)
    bottom = _blend(sky, (250, 170, 90), 0.7) if view else sky
    image = Image.new("RGB", (WIDTH, HEIGHT))
    draw = ImageDraw.Draw(image)
    for y in range(HORIZON):
        draw.line([(0, y), (WIDTH, y)], fill=_blend(top, bottom, y / HORIZON))
    sun_x = 930 if view else 220
    draw.ellipse([sun_x - 55, 120 + view * 230, sun_x + 55, 230 + view * 230], fill=(255, 214, 102))
    draw.rectangle([0, HORIZON, WIDTH, HEIGHT], fill=_blend(ground, (0, 0, 0), 0.25 * view))
    # The house: walls, a roof, a door and lit windows at dusk.
    draw.rectangle([380, 330, 820, HORIZON + 40], fill=_blend(walls, (0, 0, 0), 0.3 * view))
    draw.polygon([(350, 335), (600, 200), (850, 335)], fill=(150, 62, 40))
    window = (255, 221, 140) if view else (90, 130, 170)
    for left in (420, 700):
        draw.rectangle([left, 380, left + 80, 450], fill=window)
    draw.rectangle([560, 420, 640, HORIZON + 40], fill=(92, 58, 36))
    draw.rectangle([0, HEIGHT - 110, WIDTH, HEIGHT], fill=(0, 0, 0))
    font = ImageFont.load_default(size=44)
    draw.text((40, HEIGHT - 85), title, fill=(255, 255, 255), font=font)
    encoded = BytesIO()
    image.save(encoded, "JPEG", quality=85)
    return encoded.getvalue()


async def listing_photos(title: str, palette: tuple[str, str, str]) -> list[bytes]:
    """Two JPEG photos of a listing (by day, at dusk), drawn in a worker thread."""
    return [await asyncio.to_thread(_draw, title, palette, view) for view in (0, 1)]
