#!/usr/bin/python3
"""Renders text.png, the printed-text image of the OCR demo (bundled; rerun only to change it).

Needs Debian's python3-pil and fonts-dejavu-core. The size is a multiple of 32 in both
directions, so the detector sees the pixels as drawn (no resize).
"""
import pathlib
import sys

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = pathlib.Path("/usr/share/fonts/truetype/dejavu")
WIDTH, HEIGHT = 640, 320

# (text, font file, size, left, top): five lines, one in two far-apart parts and one whose
# double spaces split it in three, so the detector finds eight regions.
LINES = [
    ("kiln inference demo", "DejaVuSans-Bold.ttf", 34, 24, 20),
    ("PaddleOCR PP-OCRv4 text detector", "DejaVuSans.ttf", 26, 24, 84),
    ("Total:", "DejaVuSansMono.ttf", 26, 24, 140),
    ("42.00 EUR", "DejaVuSansMono.ttf", 26, 440, 140),
    ("Thank you for shopping with us!", "DejaVuSerif.ttf", 24, 24, 200),
    ("2026-11-25  19:30  #0042", "DejaVuSansMono.ttf", 22, 24, 262),
]


def main() -> None:
    out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(__file__).with_name(
        "text.png")
    image = Image.new("RGB", (WIDTH, HEIGHT), (250, 248, 240))
    draw = ImageDraw.Draw(image)
    for text, font, size, left, top in LINES:
        draw.text((left, top), text, font=ImageFont.truetype(str(FONT_DIR / font), size),
                  fill=(20, 20, 30))
    image.save(out, optimize=True)
    print(f"wrote {out} ({WIDTH}x{HEIGHT})")


if __name__ == "__main__":
    main()
