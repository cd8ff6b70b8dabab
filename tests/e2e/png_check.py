#!/usr/bin/env python3
"""png_check.py FILE [--min-colours N] [--size WxH] [--state STATE.json [--min-recon-corr R] [--min-cell-sd S]
[--min-cell-diff D]]: exits 0 when FILE is a PNG that is not blank (at least N distinct colours, default 8), has
the size given, and, with --state (the JSON vae-studio --state wrote for the screenshot's frame), shows what a
person should see: the canvas, input, reconstruction and grid textures drawn where the frame drew them, ink along
the --demo 7 and none away from it, grid cells that are images (sd >= S) unlike their neighbours (mean difference
>= D), and with R a reconstruction that correlates with the input at least R. The PNG is read by Pillow
(python3-pil, installed by ./studio.sh setup): run it with Debian's /usr/bin/python3, which has it."""
import json
import sys

from PIL import Image


def read_png(path):
    """The PNG's pixels as RGB rows, decoded by Pillow (Debian's python3-pil)."""
    with Image.open(path) as im:
        if im.format != "PNG":
            raise ValueError(f"not a PNG ({im.format})")
        rgb = im.convert("RGB")
    width, height = rgb.size
    raw = rgb.tobytes()
    return width, height, 3, [raw[y * width * 3:(y + 1) * width * 3] for y in range(height)]


def grey(rows, bpp, x, y):
    """The mean of pixel (x, y)'s R, G and B, 0..255."""
    r = rows[y]
    return (r[x * bpp] + r[x * bpp + 1] + r[x * bpp + 2]) / 3


def correlation(a, b):
    n = len(a)
    ma, mb = sum(a) / n, sum(b) / n
    sab = sum((x - ma) * (y - mb) for x, y in zip(a, b))
    saa = sum((x - ma) ** 2 for x in a)
    sbb = sum((y - mb) ** 2 for y in b)
    return sab / (saa * sbb) ** 0.5 if saa > 0 and sbb > 0 else 0.0


def inner_pixels(rect):
    """The window pixels whose centres lie inside rect, one pixel in from its edges (where the image covers
    the whole pixel), as (x, y, u, v) with (u, v) the pixel centre's place in the rect, 0..1."""
    x0, y0, w, h = rect["x"], rect["y"], rect["w"], rect["h"]
    for y in range(int(y0) + 1, int(y0 + h) - 1):
        for x in range(int(x0) + 1, int(x0 + w) - 1):
            yield x, y, (x + 0.5 - x0) / w, (y + 0.5 - y0) / h


def texel(tex, u, v, smooth):
    """Texture tex (width, height, bytes) at (u, v) as GL samples it: nearest, or bilinear between texel centres."""
    w, h, b = tex["width"], tex["height"], tex["bytes"]
    if not smooth:
        return b[min(h - 1, int(v * h)) * w + min(w - 1, int(u * w))]
    fx, fy = u * w - 0.5, v * h - 0.5
    x0, y0 = int(fx // 1), int(fy // 1)
    tx, ty = fx - x0, fy - y0
    at = lambda x, y: b[min(h - 1, max(0, y)) * w + min(w - 1, max(0, x))]
    return ((at(x0, y0) * (1 - tx) + at(x0 + 1, y0) * tx) * (1 - ty) +
            (at(x0, y0 + 1) * (1 - tx) + at(x0 + 1, y0 + 1) * tx) * ty)


# The drawing app_demo_drawing puts on the canvas (src/app/app.cpp): a 7 of two strokes, in canvas units (0..1,
# y down), drawn with the default brush width 0.07 (App::brush_width). Written out here, not read from the app,
# so that the test knows independently where ink belongs.
DEMO_STROKES = [[(0.28, 0.27), (0.50, 0.25), (0.72, 0.26)], [(0.72, 0.26), (0.58, 0.52), (0.46, 0.80)]]
DEMO_WIDTH = 0.07


def distance_to_demo(u, v):
    best = 9.0
    for stroke in DEMO_STROKES:
        for (ax, ay), (bx, by) in zip(stroke, stroke[1:]):
            dx, dy = bx - ax, by - ay
            t = max(0.0, min(1.0, ((u - ax) * dx + (v - ay) * dy) / (dx * dx + dy * dy)))
            best = min(best, ((u - ax - t * dx) ** 2 + (v - ay - t * dy) ** 2) ** 0.5)
    return best


class Checks:
    def __init__(self):
        self.failed = 0

    def __call__(self, ok, what, detail):
        print(f"{'ok  ' if ok else 'FAIL'} {what}  ({detail})")
        self.failed += not ok


# Thresholds. The grid's and the reconstruction's depend on the model and are options (native_screenshot.sh
# gives them with the values it measured).
INK, DARK = 200, 100          # grey levels: a pixel of the stroke, a pixel of the empty canvas
MAX_OFF = 0.02                # share of an image's pixels that may differ from its texture by more than TOLERANCE
TOLERANCE = 8                 # grey levels (the canvas's overlays, the bounding box and border, tint some pixels)


def check_state(rows, bpp, width, height, state, min_recon_corr, min_cell_sd, min_cell_diff):
    """What a person sees, checked against the state JSON that vae-studio --state wrote for the same frame."""
    check = Checks()
    shown = state.get("shown", {})
    # A label-conditioned model shows the Style panel's ten digits and style plane where a plain one shows its
    # input, reconstruction and latent grid.
    conditional = state.get("conditional", False)
    textures = ("style_digits",) if conditional else ("input", "recon", "grid")
    for name, smooth in (("canvas", True),) + tuple((t, False) for t in textures):
        tex = shown.get(name)
        rect = tex and tex["rect"]
        if not rect or not tex["bytes"]:
            check(False, f"the {name} is drawn", "the frame drew no such texture")
            continue
        inside = rect["x"] >= 0 and rect["y"] >= 0 and rect["x"] + rect["w"] <= width and rect["y"] + rect["h"] <= height
        off = total = 0
        for x, y, u, v in inner_pixels(rect):
            total += 1
            off += abs(grey(rows, bpp, x, y) - texel(tex, u, v, smooth)) > TOLERANCE
        check(inside and total > 0 and off <= MAX_OFF * total, f"the {name} shows what the app uploaded",
              f"{off} of {total} pixels differ by more than {TOLERANCE} levels, at most {MAX_OFF:.0%} may; "
              f"rect {rect['x']:.0f},{rect['y']:.0f} {rect['w']:.0f}x{rect['h']:.0f}")

    # The canvas: ink along the demo's strokes, black away from them (the drawing as a person would check it).
    c = state["canvas"]
    on = on_ink = away = away_dark = 0
    for x, y, u, v in inner_pixels(c):
        d, g = distance_to_demo(u, v), grey(rows, bpp, x, y)
        if d < 0.3 * DEMO_WIDTH:
            on += 1
            on_ink += g > INK
        elif d > DEMO_WIDTH:
            away += 1
            away_dark += g < DARK
    check(on > 0 and on_ink >= 0.98 * on, "the canvas has ink along the drawn 7",
          f"{on_ink} of {on} pixels within {0.3 * DEMO_WIDTH:.3f} of the strokes are brighter than {INK}")
    check(away > 0 and away_dark >= 0.98 * away, "the canvas is blank away from the strokes",
          f"{away_dark} of {away} pixels further than {DEMO_WIDTH} from them are darker than {DARK}")

    # The reconstruction beside the input, both as the screenshot shows them (28x28 samples at texel centres).
    def image(name):
        r = shown[name]["rect"]
        return [grey(rows, bpp, int(r["x"] + (i % 28 + 0.5) * r["w"] / 28), int(r["y"] + (i // 28 + 0.5) * r["h"] / 28))
                for i in range(784)]
    if shown.get("input", {}).get("rect") and shown.get("recon", {}).get("rect"):
        corr = correlation(image("input"), image("recon"))
        if min_recon_corr is None:
            print(f"note the reconstruction's correlation with the input is {corr:.3f} (not checked for this model)")
        else:
            check(corr >= min_recon_corr, "the reconstruction resembles the input",
                  f"correlation {corr:.3f}, at least {min_recon_corr}")

    if conditional:
        st = state["style"]
        check(st["predicted"] == 7 and st["images"] == 10 and abs(sum(st["probs"]) - 1) < 1e-4,
              "the Style panel reads the 7 as a 7 and draws it as all ten digits",
              f"q(7|x) = {st['probs'][7]:.3f}, predicted {st['predicted']}, {st['images']} digits")

    # The latent grid (a conditional model: its ten digits, two rows of five): each cell an image (not flat) and
    # unlike its neighbours.
    if conditional:
        g, nr, nc, what = state["widgets"].get("style_digits"), 2, 5, "the ten digits"
    else:
        g, what = state["widgets"].get("grid"), "the grid's"
        nr = nc = state["grid"]["n"]
    if g and nr > 0:
        cells = []
        for row in range(nr):
            for col in range(nc):
                x0, y0 = g["x"] + col * g["w"] / nc, g["y"] + row * g["h"] / nr
                cells.append([grey(rows, bpp, x, y) for y in range(int(y0) + 2, int(y0 + g["h"] / nr) - 1)
                              for x in range(int(x0) + 2, int(x0 + g["w"] / nc) - 1)])
        size = min(len(p) for p in cells)
        sd = lambda p: (sum((q - sum(p) / len(p)) ** 2 for q in p) / len(p)) ** 0.5
        sds = [sd(p) for p in cells]
        count = nr * nc
        diffs = [sum(abs(a - b) for a, b in zip(cells[i][:size], cells[j][:size])) / size
                 for i in range(count) for j in (i + 1, i + nc) if j < count and (j != i + 1 or j % nc)]
        check(size > 16 and min(sds) >= min_cell_sd, f"each of {what} {nr}x{nc} cells is an image",
              f"the flattest cell's grey levels have sd {min(sds):.2f}, at least {min_cell_sd}")
        check(diffs and min(diffs) >= min_cell_diff, "neighbouring cells differ",
              f"the closest neighbours differ by {min(diffs):.2f} grey levels on average, at least {min_cell_diff}; "
              f"median {sorted(diffs)[len(diffs) // 2]:.2f}")
    else:
        check(False, f"{what} cells are laid out", f"widget {g}")
    return check.failed


def main(argv):
    path, min_colours, size, state, min_recon_corr, min_cell_sd, min_cell_diff = argv[1], 8, None, None, None, 0.25, 0.05
    for i, a in enumerate(argv):
        if a == "--min-colours":
            min_colours = int(argv[i + 1])
        elif a == "--size":
            size = tuple(int(v) for v in argv[i + 1].split("x"))
        elif a == "--state":
            state = json.load(open(argv[i + 1]))
        elif a == "--min-recon-corr":
            min_recon_corr = float(argv[i + 1])
        elif a == "--min-cell-sd":
            min_cell_sd = float(argv[i + 1])
        elif a == "--min-cell-diff":
            min_cell_diff = float(argv[i + 1])
    width, height, bpp, rows = read_png(path)
    colours = {row[i:i + 3] for row in rows for i in range(0, len(row), bpp)}
    print(f"{path}: {width}x{height}, {len(colours)} distinct colours")
    if size and (width, height) != size:
        print(f"expected {size[0]}x{size[1]}")
        return 1
    if len(colours) < min_colours:
        print(f"looks blank: fewer than {min_colours} colours")
        return 1
    return 1 if state is not None and check_state(rows, bpp, width, height, state, min_recon_corr, min_cell_sd, min_cell_diff) else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
