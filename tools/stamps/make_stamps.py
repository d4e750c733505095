#!/usr/bin/env python3
"""Draws the stamp pictures in assets/stamps/ from simple shapes (signed
distance functions, anti-aliased), with no libraries beyond Python's own.
Run it again after changing a shape; the PNGs are committed. The pictures are
our own work, released under CC0 (see assets/stamps/README.md)."""

import math
import struct
import sys
import zlib
from pathlib import Path

SIZE = 256
OUTLINE = 10.0  # the white sticker rim, pixels


def png(path, rgba):
    raw = b"".join(b"\x00" + bytes(row) for row in rgba)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0)
    Path(path).write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))


# Shapes: functions (x, y) -> signed distance in pixels (negative inside).
def circle(cx, cy, r):
    return lambda x, y: math.hypot(x - cx, y - cy) - r


def ellipse(cx, cy, rx, ry):
    # Not exact, close enough for small shapes.
    return lambda x, y: (math.hypot((x - cx) / rx, (y - cy) / ry) - 1.0) * min(rx, ry)


def box(cx, cy, hw, hh, radius=0.0, angle=0.0):
    c, s = math.cos(angle), math.sin(angle)

    def f(x, y):
        dx, dy = x - cx, y - cy
        lx, ly = c * dx + s * dy, -s * dx + c * dy
        qx, qy = abs(lx) - hw + radius, abs(ly) - hh + radius
        return math.hypot(max(qx, 0), max(qy, 0)) + min(max(qx, qy), 0) - radius
    return f


def capsule(ax, ay, bx, by, r):
    def f(x, y):
        px, py, vx, vy = x - ax, y - ay, bx - ax, by - ay
        h = max(0.0, min(1.0, (px * vx + py * vy) / (vx * vx + vy * vy)))
        return math.hypot(px - vx * h, py - vy * h) - r
    return f


def heart(cx, cy, scale):
    # Inigo Quilez's heart, y up, unit size about 1.
    def f(x, y):
        px, py = abs(x - cx) / scale, (cy - y) / scale + 0.55
        if px + py > 1.0:
            d = math.hypot(px - 0.25, py - 0.75) - math.sqrt(2.0) / 4.0
        else:
            m = 0.5 * max(px + py, 0.0)
            d = min(math.hypot(px, py - 1.0), math.hypot(px - m, py - m)) * (1 if px - py > 0 else -1)
        return d * scale
    return f


def star(cx, cy, r, inner=0.45, points=5, rounding=6.0):
    verts = []
    for i in range(points * 2):
        a = -math.pi / 2 + i * math.pi / points
        rr = r if i % 2 == 0 else r * inner
        verts.append((cx + rr * math.cos(a), cy + rr * math.sin(a)))
    return lambda x, y: polygon_sdf(verts, x, y) - rounding


def polygon_sdf(v, x, y):
    d = (x - v[0][0]) ** 2 + (y - v[0][1]) ** 2
    sign = 1.0
    j = len(v) - 1
    for i in range(len(v)):
        ex, ey = v[j][0] - v[i][0], v[j][1] - v[i][1]
        wx, wy = x - v[i][0], y - v[i][1]
        h = max(0.0, min(1.0, (wx * ex + wy * ey) / (ex * ex + ey * ey)))
        d = min(d, (wx - ex * h) ** 2 + (wy - ey * h) ** 2)
        c1, c2, c3 = y >= v[i][1], y < v[j][1], ex * wy > ey * wx
        if (c1 and c2 and c3) or (not c1 and not c2 and not c3):
            sign = -sign
        j = i
    return sign * math.sqrt(d)


def arc(cx, cy, r, thickness, start, end):
    """A stroke along a circle between two angles (radians, y down)."""
    def f(x, y):
        a = math.atan2(y - cy, x - cx)
        if start <= a <= end:
            return abs(math.hypot(x - cx, y - cy) - r) - thickness
        ends = [(cx + r * math.cos(t), cy + r * math.sin(t)) for t in (start, end)]
        return min(math.hypot(x - ex, y - ey) for ex, ey in ends) - thickness
    return f


def union(*shapes):
    return lambda x, y: min(s(x, y) for s in shapes)


def draw(layers):
    """Layers are (shape, (r, g, b)), bottom first; a white rim goes round them all."""
    outline = union(*(shape for shape, _ in layers))
    image = []
    for py in range(SIZE):
        row = []
        for px in range(SIZE):
            x, y = px + 0.5, py + 0.5
            rim = outline(x, y)
            # A soft shadow under the sticker, then the white rim.
            shadow = max(0.0, min(1.0, 0.5 - (outline(x - 3, y - 5) - OUTLINE) / 6.0)) * 0.25
            cover = max(0.0, min(1.0, 0.5 - (rim - OUTLINE)))
            r, g, b = 255.0, 255.0, 255.0
            a = cover + shadow * (1 - cover)
            if a > 0 and cover < 1:
                # Shadow colour where the rim does not cover.
                k = cover / a
                r = g = b = 255.0 * k + 90.0 * (1 - k)
            for shape, colour in layers:
                c = max(0.0, min(1.0, 0.5 - shape(x, y)))
                if c > 0:
                    r, g, b = (r * (1 - c) + colour[0] * c, g * (1 - c) + colour[1] * c, b * (1 - c) + colour[2] * c)
            row += [int(r + 0.5), int(g + 0.5), int(b + 0.5), int(a * 255 + 0.5)]
        image.append(row)
    return image


INK = (90, 60, 50)
STAMPS = {
    "heart": [(heart(128, 128, 150), (240, 90, 120)), (ellipse(92, 95, 16, 10), (255, 170, 185))],
    "star": [(star(128, 136, 108), (255, 205, 60)), (ellipse(108, 118, 10, 7), (255, 235, 150))],
    "smile": [
        (circle(128, 128, 100), (255, 210, 80)),
        (ellipse(95, 105, 11, 16), INK),
        (ellipse(161, 105, 11, 16), INK),
        (ellipse(75, 145, 16, 10), (250, 150, 140)),
        (ellipse(181, 145, 16, 10), (250, 150, 140)),
        (arc(128, 130, 48, 6, 0.45, math.pi - 0.45), INK),
    ],
    "clap": [
        (box(100, 150, 34, 62, 26, -0.35), (250, 190, 140)),
        (box(156, 150, 34, 62, 26, 0.35), (255, 205, 160)),
        (capsule(70, 60, 58, 36, 6), (255, 170, 60)),
        (capsule(128, 50, 128, 22, 6), (255, 170, 60)),
        (capsule(186, 60, 198, 36, 6), (255, 170, 60)),
    ],
    "tanabata": [
        (box(118, 132, 14, 108, 10), (110, 180, 90)),
        (capsule(104, 80, 132, 80, 3), (80, 145, 70)),
        (capsule(104, 150, 132, 150, 3), (80, 145, 70)),
        (capsule(130, 60, 196, 34, 10), (130, 200, 100)),
        (capsule(130, 110, 190, 120, 10), (130, 200, 100)),
        (capsule(108, 95, 52, 70, 10), (130, 200, 100)),
        (box(178, 152, 13, 30, 3, 0.08), (240, 110, 120)),
        (box(70, 122, 13, 30, 3, -0.08), (90, 160, 230)),
        (box(160, 205, 13, 28, 3, 0.05), (255, 205, 70)),
    ],
    # The words are drawn over the card by the client, from the locale files.
    "thanks": [
        (box(128, 140, 112, 70, 30), (255, 190, 200)),
        (heart(128, 52, 44), (240, 90, 120)),
        (box(128, 140, 100, 58, 24), (255, 245, 240)),
    ],
}


def main():
    out = Path(__file__).resolve().parents[2] / "assets" / "stamps"
    out.mkdir(parents=True, exist_ok=True)
    names = sys.argv[1:] or list(STAMPS)
    for name in names:
        png(out / f"{name}.png", draw(STAMPS[name]))
        print(f"wrote {out / name}.png")


if __name__ == "__main__":
    main()
