// Driving the studio's page as a user does, for the browser tests: the app's state (window.vaeStudio.state(),
// src/app/app.hpp's app_state_json), waiting on it frame by frame, and real mouse input at the places the app
// says it drew its widgets (state().widgets), a frame after each event so that ImGui sees every one. The page is
// playwright-core's (Chromium) or puppeteer-core's (Firefox over WebDriver BiDi).
//   const { state, waitState, waitFrames, widget, click, drag, scrollIntoView } = pageDriver(page[, 'puppeteer']);

// Where the two libraries differ: waiting on a function in the page, the window's size and the wheel. evaluate and
// the mouse's move, down and up take the same arguments in both.
const LIBRARIES = {
  playwright: page => ({
    waitForFunction: (fn, arg, timeout) => page.waitForFunction(fn, arg, { timeout }),
    viewport: () => page.viewportSize(),
    wheel: (dx, dy) => page.mouse.wheel(dx, dy),
  }),
  puppeteer: page => ({
    waitForFunction: (fn, arg, timeout) => page.waitForFunction(fn, { timeout }, arg),
    viewport: () => page.viewport(),
    wheel: (dx, dy) => page.mouse.wheel({ deltaX: dx, deltaY: dy }),
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
  const inside = w => {
    const vp = lib.viewport();
    return w.x >= 0 && w.y >= 0 && w.x + w.w <= vp.width && w.y + w.h <= vp.height;
  };
  const widget = async name => {
    const w = (await state()).widgets[name];
    if (!w) throw new Error(`widget ${name} is not on screen`);
    if (!inside(w)) throw new Error(`widget ${name} is outside the window: ${JSON.stringify(w)}`);
    return w;
  };
  // Scrolls the column holding widget `name` with the mouse wheel over it until the widget is in the window.
  const scrollIntoView = async name => {
    const vp = lib.viewport();
    for (let i = 0; i < 40; i++) {
      const w = (await state()).widgets[name];
      if (!w) throw new Error(`widget ${name} is not drawn`);
      if (inside(w)) return w;
      await page.mouse.move(Math.min(Math.max(w.x + w.w / 2, 1), vp.width - 1), vp.height / 2);
      await lib.wheel(0, w.y + w.h > vp.height ? 120 : -120);
      await waitFrames(2);
    }
    throw new Error(`widget ${name} could not be scrolled into the window`);
  };
  const click = async (name, fx = 0.5, button = 'left') => {
    const w = await widget(name);
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
  return { state, waitState, waitFrames, widget, scrollIntoView, click, drag, saveReconstruction };
}
