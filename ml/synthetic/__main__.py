"""``python -m ml.synthetic``: time the renderer, or draw a contact sheet to look at.

python -m ml.synthetic --time 200            # ms per product shot / worn scene
python -m ml.synthetic --sheet sheet.png     # 16 products: shot + worn, boxes drawn
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from pathlib import Path

from PIL import Image, ImageDraw

from ml.synthetic.render import render_product_shot, render_worn
from ml.synthetic.spec import sample_catalog


def _time(n: int, size: int) -> None:
    specs = sample_catalog(n, seed=1)
    for spec in specs[:10]:  # warm caches
        render_product_shot(spec, size=size)
        render_worn(spec, size=size)
    for name, render in (("product shot", render_product_shot), ("worn scene", render_worn)):
        wall, cpu = time.perf_counter(), time.thread_time()
        for spec in specs:
            render(spec, size=size)
        wall_ms = (time.perf_counter() - wall) / n * 1000
        cpu_ms = (time.thread_time() - cpu) / n * 1000
        print(f"{name} {size}px: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU per image (n={n})")


def _sheet(path: Path, size: int) -> None:
    tiles = []
    for spec in sample_catalog(16, seed=3):
        tiles.append(render_product_shot(spec, size=size).image)
        worn = render_worn(spec, size=size, scene=1)
        image = worn.image.copy()
        draw = ImageDraw.Draw(image)
        for garment in worn.garments:
            colour = (255, 0, 0) if garment.is_target else (0, 255, 0)
            draw.rectangle(garment.box.as_list(), outline=colour)
        if worn.person is not None:
            draw.rectangle(worn.person.as_list(), outline=(0, 0, 255))
        tiles.append(image)
    sheet = Image.new("RGB", (size * 8, size * 4))
    for i, tile in enumerate(tiles):
        sheet.paste(tile, ((i % 8) * size, (i // 8) * size))
    sheet.save(path)
    print(f"wrote {path}")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--time", type=int, default=0, help="images to time")
    parser.add_argument("--sheet", type=Path, default=None, help="contact sheet path")
    parser.add_argument("--size", type=int, default=256)
    args = parser.parse_args(argv)
    if args.time:
        _time(args.time, args.size)
    if args.sheet:
        _sheet(args.sheet, args.size)
    if not args.time and not args.sheet:
        parser.print_help()


if __name__ == "__main__":
    main()
