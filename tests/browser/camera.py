"""Videos for Chromium's fake camera: QR codes shown one after another, written as Y4M (raw 4:2:0 frames)."""

from pathlib import Path

import qrcode
from PIL import Image

SIZE = 480
FPS = 10


def qr_frame(text: str | None) -> bytes:
    """One grey frame (the Y plane): `text` as a QR code on white, or white alone for None."""
    canvas = Image.new("L", (SIZE, SIZE), 255)
    if text is not None:
        code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
        code.add_data(text)
        code.make(fit=True)
        drawn = code.make_image().get_image().convert("L")
        edge = int(SIZE * 0.85)
        canvas.paste(drawn.resize((edge, edge), Image.Resampling.NEAREST), ((SIZE - edge) // 2, (SIZE - edge) // 2))
    return canvas.tobytes()


def write_video(path: Path, segments: list[tuple[str | None, float]]) -> Path:
    """A Y4M video of `segments`: (QR text or None for an empty view, seconds); Chromium loops it."""
    neutral_chroma = bytes([128]) * ((SIZE // 2) * (SIZE // 2) * 2)
    with path.open("wb") as video:
        video.write(f"YUV4MPEG2 W{SIZE} H{SIZE} F{FPS}:1 Ip A1:1 C420jpeg\n".encode())
        for text, seconds in segments:
            frame = b"FRAME\n" + qr_frame(text) + neutral_chroma
            for _ in range(round(seconds * FPS)):
                video.write(frame)
    return path
