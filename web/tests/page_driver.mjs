// Driving the studio's page as a user does, for the browser tests: the app's state (window.vaeStudio.state(),
// src/app/app.hpp's app_state_json), waiting on it frame by frame, and real mouse input at the places the app
// says it drew its widgets (state().widgets), a frame after each event so that ImGui sees every one. The page is
// playwright-core's (Chromium) or puppeteer-core's (Firefox over WebDriver BiDi).
//   const { state, waitState, waitFrames, widget, click, drag, scrollIntoView } = pageDriver(page[, 'puppeteer']);
// And fingers, through the DevTools protocol's Input.dispatchTouchEvent (Chromium only), at CSS px points:
//   const { tap, tapAt, swipe, pinch } = pageDriver(page);

// Where the two libraries differ: waiting on a function in the page, the window's size and the wheel. evaluate and
// the mouse's move, down and up take the same arguments in both.
const LIBRARIES = {
  playwright: page => ({
    waitForFunction: (fn, arg, timeout) => page.waitForFunction(fn, arg, { timeout }),
    viewport: () => page.viewportSize(),
    wheel: (dx, dy) => page.mouse.wheel(dx, dy),
    cdp: () => page.context().newCDPSession(page),
  }),
  puppeteer: page => ({
    waitForFunction: (fn, arg, timeout) => page.waitForFunction(fn, { timeout }, arg),
    viewport: () => page.viewport(),
    wheel: (dx, dy) => page.mouse.wheel({ deltaX: dx, deltaY: dy }),
    cdp: () => page.createCDPSession(),  // Chrome only: Firefox over WebDriver BiDi has no DevTools protocol
  }),
};

export function pageDriver(page, library = 'playwright') {
  const lib = LIBRARIES[library](page);
  const state = () => page.evaluate(() => window.vaeStudio.state());
  const waitState = async (predicate, arg, timeout = 60000) => {
    try {
      await lib.waitForFunction(([p, a]) => window.vaeStudio.ready && new Function('s', 'a', p)(window.vaeStudio.state(), a),
                                [predicate, arg], timeout);
    } catch (e) {
      const s = await page.evaluate(() => window.vaeStudio.state()).catch(() => null);
      const brief = s && { frame: s.frame, model: s.model, loading: s.loading, message: s.message, strokes: s.strokes };
      throw new Error(`timed out waiting for (${predicate}) with ${JSON.stringify(arg)}: ${JSON.stringify(brief)}`);
    }
  };
  const waitFrames = async n => {
    const f = (await state()).frame;
    await waitState('return s.frame >= a', f + n);
  };
  // Wholly in sight: in the window and not scrolled out of its column, not even partly.
  const inside = w => {
    const vp = lib.viewport();
    return w.visible !== false && w.x >= 0 && w.y >= 0 && w.x + w.w <= vp.width && w.y + w.h <= vp.height;
  };
  const widget = async name => {
    const s = await state(), w = s.widgets[name];
    if (!w) throw new Error(`widget ${name} is not on screen`);
    if (!inside(w)) throw new Error(`widget ${name} is outside the window: ${JSON.stringify(w)}`);
    return w;
  };
  // Scrolls the column holding widget `name` with the mouse wheel over it until the widget is in the window.
  const scrollIntoView = async name => {
    const vp = lib.viewport();
    for (let i = 0; i < 40; i++) {
      const s = await state(), w = s.widgets[name];
      if (!w) throw new Error(`widget ${name} is not drawn`);
      if (inside(w)) return w;
      // Over the widget's column, at a height where no grid or map takes the wheel for zooming.
      const zooms = ['grid', 'map'].map(k => s.widgets[k]).filter(Boolean);
      const x = Math.min(Math.max(w.x + w.w / 2, 1), vp.width - 1);
      const y = [0.5, 0.3, 0.7, 0.85, 0.95].map(f => f * vp.height).filter(y => y > (s.layout?.top ?? 0))
        .find(y => !zooms.some(z => x >= z.x && x < z.x + z.w && y >= z.y && y < z.y + z.h)) ?? vp.height / 2;
      await page.mouse.move(x, y);
      await lib.wheel(0, w.y + w.h / 2 > y ? 120 : -120);
      await waitFrames(2);
    }
    throw new Error(`widget ${name} could not be scrolled into the window`);
  };
  // Widget `name` clicked at fraction fx of its width, scrolled into the window first if it is outside.
  const click = async (name, fx = 0.5, button = 'left') => {
    const w = await scrollIntoView(name);
    await page.mouse.move(w.x + fx * w.w, w.y + w.h / 2);
    await waitFrames(1);
    await page.mouse.down({ button });
    await waitFrames(1);
    await page.mouse.up({ button });
    // The next frame sees the release and the panel acts on the click; what app_update derives from that (the
    // morph of two slots, a grid view) is computed at the start of the frame after.
    await waitFrames(2);
  };
  // A polyline in the rectangle r, points in [0, 1]^2, one frame per point.
  const drag = async (r, points, between = null) => {
    const at = ([u, v]) => [r.x + u * r.w, r.y + v * r.h];
    await page.mouse.move(...at(points[0]));
    await waitFrames(1);
    await page.mouse.down();
    for (let i = 1; i < points.length; i++) {
      await page.mouse.move(...at(points[i]));
      await waitFrames(1);
      if (between) await between(i);
    }
    await page.mouse.up();
    await waitFrames(2);
  };
  // "Save reconstruction" scrolled to and clicked, the PNG taken from Module.vaeStudioSave in place of a download:
  // the input beside its reconstruction, 8x, grey, 1-pixel gaps. Returns the PNG's name and size, and the input and
  // the reconstruction read back from it (784 values in 0..255 each).
  const saveReconstruction = async () => {
    await page.evaluate(() => {
      window.__saved = [];
      Module.vaeStudioSave = (name, bytes) => window.__saved.push({ name, bytes: Array.from(bytes) });
    });
    await scrollIntoView('save_reconstruction');
    await click('save_reconstruction');
    await lib.waitForFunction(() => window.__saved.length > 0, null, 10000);
    return page.evaluate(async () => {
      const { name, bytes } = window.__saved[0];
      const bmp = await createImageBitmap(new Blob([new Uint8Array(bytes)], { type: 'image/png' }));
      const cv = new OffscreenCanvas(bmp.width, bmp.height), g = cv.getContext('2d');
      g.drawImage(bmp, 0, 0);
      const d = g.getImageData(0, 0, bmp.width, bmp.height).data, at = (x, y) => d[4 * (y * bmp.width + x)];
      const image = x0 => Array.from({ length: 784 }, (_, i) => at(8 * (x0 + i % 28) + 4, 8 * (1 + Math.floor(i / 28)) + 4));
      return { name, width: bmp.width, height: bmp.height, input: image(1), recon: image(30) };
    });
  };
  // Fingers: touchStart and touchMove list every finger that is down ([x, y] in CSS px; ids 0, 1, ... in list
  // order), touchEnd lifts them all. One frame after each event, as for the mouse.
  let session = null;
  const touch = async (type, points = []) => {
    session ??= lib.cdp();
    await (await session).send('Input.dispatchTouchEvent',
                               { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
  };
  // A finger down and up at (x, y), two frames apart (a short tap; the frames here are slow).
  const tapAt = async (x, y) => {
    await touch('touchStart', [[x, y]]);
    await waitFrames(2);
    await touch('touchEnd');
    await waitFrames(2);  // as click: the release, then what app_update derives from it
  };
  const tap = async (name, fx = 0.5) => {
    const w = await widget(name);
    await tapAt(w.x + fx * w.w, w.y + w.h / 2);
  };
  // One finger from `from` to `to` in `steps` moves, then held still for `hold` frames (so that nothing flings),
  // `beforeRelease()` awaited while it is still down, and lifted.
  const swipe = async (from, to, steps = 10, { hold = 0, beforeRelease = null } = {}) => {
    const at = i => [from[0] + (to[0] - from[0]) * i / steps, from[1] + (to[1] - from[1]) * i / steps];
    await touch('touchStart', [at(0)]);
    await waitFrames(1);
    for (let i = 1; i <= steps; i++) {
      await touch('touchMove', [at(i)]);
      await waitFrames(1);
    }
    if (hold) await waitFrames(hold);
    if (beforeRelease) await beforeRelease();
    await touch('touchEnd');
    await waitFrames(2);
  };
  // Two fingers on a horizontal line through `center`, d0 px apart, both down at once, moved to d1 apart in
  // `steps` moves, held, lifted together.
  const pinch = async (center, d0, d1, steps = 10, { hold = 1, beforeRelease = null } = {}) => {
    const at = i => {
      const h = (d0 + (d1 - d0) * i / steps) / 2;
      return [[center[0] - h, center[1]], [center[0] + h, center[1]]];
    };
    await touch('touchStart', at(0));
    await waitFrames(1);
    for (let i = 1; i <= steps; i++) {
      await touch('touchMove', at(i));
      await waitFrames(1);
    }
    if (hold) await waitFrames(hold);
    if (beforeRelease) await beforeRelease();
    await touch('touchEnd');
    await waitFrames(2);
  };
  return { state, waitState, waitFrames, widget, scrollIntoView, click, drag, saveReconstruction,
           touch, tapAt, tap, swipe, pinch };
}
