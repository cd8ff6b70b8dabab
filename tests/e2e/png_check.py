#!/usr/bin/env python3
"""png_check.py FILE [--min-colours N] [--size WxH]: exits 0 when FILE is a PNG that is not blank (at least N
distinct colours, default 8) and, if --size is given, has that size. A stdlib-only reader for the 8-bit,
non-interlaced RGB / RGBA PNGs that stb_image_write and Chromium write; not a general PNG decoder."""
import struct
import sys
import zlib


def read_png(path):
    data = open(path, "rb").read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    pos, idat, width = 8, b"", None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour not in (2, 6) or interlace:
                raise ValueError(f"unsupported PNG: depth {depth}, colour type {colour}, interlace {interlace}")
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            idat += body
        elif kind == b"IEND":
            break
    if width is None:
        raise ValueError("no IHDR chunk")
    raw, stride, rows, prev = zlib.decompress(idat), width * bpp, [], bytearray(width * bpp)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if f == 1:
                line[i] = (line[i] + a) & 255
            elif f == 2:
                line[i] = (line[i] + b) & 255
            elif f == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def main(argv):
    path, min_colours, size = argv[1], 8, None
    for i, a in enumerate(argv):
        if a == "--min-colours":
            min_colours = int(argv[i + 1])
        elif a == "--size":
            size = tuple(int(v) for v in argv[i + 1].split("x"))
    width, height, bpp, rows = read_png(path)
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), bpp)}
    print(f"{path}: {width}x{height}, {len(colours)} distinct colours")
    if size and (width, height) != size:
        print(f"expected {size[0]}x{size[1]}")
        return 1
    if len(colours) < min_colours:
        print(f"looks blank: fewer than {min_colours} colours")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
