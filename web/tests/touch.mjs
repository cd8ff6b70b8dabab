// The studio as a person meets it with their fingers, on four screens, each in a fresh headless Chromium
// (WebGL2 on SwiftShader): a phone (390x844 CSS px at devicePixelRatio 3, touch, mobile), a narrow one (360x740
// at 3) and two touch laptops (1280x720 and 1440x900 at 2). All input is real touch through the DevTools protocol (page_driver.mjs's tap,
// swipe and pinch), a frame after each event. On each screen: the page loads with its first-run hint and no
// widget cut off at the sides; a "7" drawn with a finger is encoded and the hint goes; a swipe on a column's
// empty part scrolls that column and draws nothing (in one column: swiping down to the grid, and the section
// bar's buttons jumping to a section and back); a tapped grid cell is selected; a pinch zooms the grid and the
// latent map and neither selects nor draws; a "(?)" opens its help on a tap and a tap elsewhere closes it; the
// page itself never scrolls or zooms; the console stays free of errors. Screenshots go to --out.
//   node web/tests/touch.mjs --site build-web/site [--out DIR] [--screens phone,360x740@3,1280x720,1440x900]
// --screens: any of phone and WxH (DPR 2, touch; WxH@R for devicePixelRatio R), comma-separated.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';
import { startServer } from '../serve.mjs';
import { pageDriver } from './page_driver.mjs';
import { arg, checks } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const site = resolve(arg('site', join(here, '../../build-web/site')));
const out = resolve(arg('out', join(site, '../screenshots')));
const SECTIONS = ['draw', 'code', 'map', 'repair', 'grid', 'samples', 'morph', 'compare', 'models'];

const screens = arg('screens', 'phone,360x740@3,1280x720,1440x900').split(',').map(name => {
  if (name === 'phone')
    return { name, viewport: { width: 390, height: 844 }, deviceScaleFactor: 3, hasTouch: true, isMobile: true };
  const m = /^(\d+)x(\d+)(?:@(\d+(?:\.\d+)?))?$/.exec(name);
  if (!m) throw new Error(`--screens: "${name}" is neither phone nor WxH[@DPR]`);
  return { name, viewport: { width: +m[1], height: +m[2] }, deviceScaleFactor: m[3] ? +m[3] : 2, hasTouch: true };
});

const { check, summary } = checks();

// A field of the state JSON the touch checks read (layout, hint, touch, help_open, map_view, grid.selected, the
// section bar's and the help markers' widgets): when one is absent the check fails naming it, and the run goes on.
class Missing extends Error {}
const need = (s, path) => {
  const v = path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), s);
  if (v === undefined) throw new Missing(`state().${path} is missing`);
  return v;
};
const needWidget = (s, name) => {
  const w = s.widgets[name];
  if (!w) throw new Missing(`widget ${name} is not drawn`);
  return w;
};
// A check on such a field: a FAIL line naming the missing field instead of the check when it is not there.
const checkNew = (what, fn) => {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Missing)) throw e;
    check(false, what, e.message);
  }
};
const rect = w => `${w.x.toFixed(0)},${w.y.toFixed(0)} ${w.w.toFixed(0)}x${w.h.toFixed(0)}`;
const centre = w => [w.x + w.w / 2, w.y + w.h / 2];
const within = (p, w, m = 0) => p[0] >= w.x - m && p[0] <= w.x + w.w + m && p[1] >= w.y - m && p[1] <= w.y + w.h + m;

async function runScreen(server, screen) {
  const url = `http://127.0.0.1:${server.address().port}/`;
  const tag = `[${screen.name}]`;
  const { name, ...options } = screen;
  const vw = screen.viewport.width, vh = screen.viewport.height;
  // One column where the window's content is narrower than the studio's two-column width (720 units).
  const narrow = vw - 24 < 720;
  const { context, close } = await launchChromium(options);
  const errors = [];
  try {
    const page = context.pages()[0] || await context.newPage();
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', e => errors.push(`uncaught: ${e.message}`));
    const { state, waitState, waitFrames, touch, tapAt, tap, swipe, pinch } = pageDriver(page);
    // A condition on the state within `timeout` ms: true, or false once the time is up (no throw).
    const waitFor = (predicate, a, timeout = 10000) => waitState(predicate, a, timeout).then(() => true, () => false);

    // The page's own scroll and zoom, after every gesture: they must stay at 0 and 1.
    const pageMoves = [];
    const pageStill = async when => {
      const v = await page.evaluate(() => [window.scrollX, window.scrollY, window.visualViewport.scale,
                                           window.visualViewport.offsetLeft, window.visualViewport.offsetTop]);
      if (v[0] !== 0 || v[1] !== 0 || v[2] !== 1 || v[3] !== 0 || v[4] !== 0)
        pageMoves.push(`${when}: scroll ${v[0]},${v[1]} zoom ${v[2]} visual offset ${v[3]},${v[4]}`);
    };
    const step = async (what, fn) => {
      try {
        await fn();
      } catch (e) {
        check(false, `${tag} ${what}`, e.message.split('\n')[0]);
        await touch('touchEnd').catch(() => {});  // no finger left down for the next step
        await waitFrames(2).catch(() => {});
      }
      await pageStill(what).catch(e => pageMoves.push(`${what}: ${e.message.split('\n')[0]}`));
    };

    // Where the columns are and where a finger may press without touching anything of the app's: the section
    // bar (phone) or the header stays above `top`; a quiet spot is in the column, off its scrollbar, off every
    // widget, the canvas and the squares, and `avoid` px away from the point `from` if given.
    const columns = s => s.layout?.columns ?? 1;
    const columnOf = (s, w) => Math.min(columns(s) - 1, Math.max(0, Math.floor((w.x + w.w / 2) / vw * columns(s))));
    const top = s => s.layout?.top ?? Math.max(0.12 * vh, ...SECTIONS.map(k => s.widgets[`section_${k}`]).filter(Boolean).map(w => w.y + w.h + 4));
    const quietSpot = (s, col, yLo, yHi, { fromBottom = true, from = null, avoid = 0 } = {}) => {
      const x0 = col * vw / columns(s), x1 = (col + 1) * vw / columns(s);
      const busy = [...Object.values(s.widgets), s.canvas].filter(Boolean);
      const ys = [];
      for (let y = yLo; y <= yHi; y += 10) ys.push(y);
      if (fromBottom) ys.reverse();
      for (const y of ys)
        for (let x = x1 - 32; x >= (x0 + x1) / 2; x -= 6) {
          const p = [x, y];
          if (busy.some(w => within(p, w, 8))) continue;
          if (from && Math.hypot(x - from[0], y - from[1]) < avoid) continue;
          return p;
        }
      return null;
    };
    // Swipes the column holding widget `wname` (fingers on a quiet spot) until the widget is wholly between
    // `top` and the window's foot; the widget's rect on screen.
    // (On a wide screen a column at its top has nothing over it: the header is above its first widget.)
    const visible = (s, w) => w.x >= 0 && w.x + w.w <= vw && w.y + w.h <= vh &&
                              (w.visible === true || (w.visible === undefined && w.y >= top(s)));
    // Until the columns stop moving (a flung column glides on for a moment after the finger lifts).
    const settle = async () => {
      let last = null;
      for (let i = 0; i < 120; i++) {
        const now = JSON.stringify((await state()).layout?.scroll);
        if (now === last) return;
        last = now;
        await waitFrames(1);
      }
    };
    const swipeTo = async wname => {
      for (let i = 0; i < 14; i++) {
        const s = await state();
        const w = s.widgets[wname] || (wname === 'canvas' ? s.canvas : null);
        if (!w) throw new Missing(`widget ${wname} is not drawn`);
        if (visible(s, w)) return w;
        const t = top(s), room = vh - t - 40;
        const up = w.y + w.h > vh;  // below the window: the finger goes up
        const gap = up ? w.y + w.h - (vh - 20) : t + 20 - w.y;
        const d = Math.min(Math.max(gap, 40), 0.6 * room);
        const p = up ? quietSpot(s, columnOf(s, w), t + d + 20, vh - 20)
                     : quietSpot(s, columnOf(s, w), t + 20, vh - d - 20, { fromBottom: false });
        if (!p) throw new Error(`no quiet spot to swipe on in column ${columnOf(s, w)} (to bring ${wname} on screen)`);
        await swipe(p, [p[0], up ? p[1] - d : p[1] + d], 10, { hold: 2 });
        await settle();
      }
      const s = await state();
      const w = s.widgets[wname] || s.canvas;
      throw new Error(`${wname} could not be swiped on screen (at ${rect(w)}, scroll ${JSON.stringify(s.layout?.scroll)})`);
    };

    // 1. The page loads; the hint is up; nothing is cut off at the sides.
    let loaded = false;
    await step('the page loads', async () => {
      await page.goto(url);
      await waitState('return s.frame > 5 && s.model !== "" && s.loading === ""', null, 90000);
      await waitFrames(3);
      const s = await state();
      loaded = check(s.model === 'mnist-z2', `${tag} the page loads with mnist-z2`, `${s.model} ${s.arch}, frame ${s.frame}`);
      const cut = Object.entries(s.widgets).filter(([, w]) => w.x < 0 || w.x + w.w > vw).map(([k, w]) => `${k} ${rect(w)}`);
      check(cut.length === 0, `${tag} no widget is cut off at the window's sides`,
            cut.length ? cut.join('; ') : `${Object.keys(s.widgets).length} widgets within 0..${vw}`);
      const c = s.canvas;
      check(c && c.w > 100 && c.x >= 0 && c.x + c.w <= vw && c.y + c.h <= vh, `${tag} the drawing canvas is on screen`,
            c ? rect(c) : 'no canvas');
      checkNew(`${tag} the first-run hint is shown`,
               () => check(need(s, 'hint') === true, `${tag} the first-run hint is shown`, `hint ${s.hint}`));
      const bar = SECTIONS.filter(k => s.widgets[`section_${k}`]);
      const what = narrow ? `${tag} one column, with the section bar` : `${tag} side-by-side columns, no section bar`;
      checkNew(what, () => {
        const columns = need(s, 'layout.columns');
        check(narrow ? columns === 1 && bar.length === SECTIONS.length : columns >= 2 && bar.length === 0, what,
              `${columns} column(s); section bar buttons: ${bar.join(', ') || 'none'}`);
      });
      checkNew(`${tag} every column starts at the top`, () => {
        const layout = need(s, 'layout');
        check(Array.isArray(layout.scroll) && layout.scroll.length === layout.columns && layout.scroll.every(v => v === 0) &&
              Array.isArray(layout.scroll_max) && layout.scroll_max.length === layout.columns,
              `${tag} every column starts at the top`, JSON.stringify(layout));
      });
    });
    if (!loaded) return;

    // 2. A "7" drawn with a finger: three strokes of ten moves or so.
    await step('a digit drawn with a finger', async () => {
      let s = await state();
      const before = s.strokes, c = s.canvas, at = (u, v) => [c.x + u * c.w, c.y + v * c.h];
      await swipe(at(0.25, 0.22), at(0.75, 0.22), 10);
      await swipe(at(0.75, 0.22), at(0.42, 0.82), 10);
      await swipe(at(0.45, 0.52), at(0.68, 0.52), 8);
      const done = await waitFor('return s.strokes === a && !s.empty && s.elbo !== null && s.kl !== null', before + 3, 20000);
      s = await state();
      const p = s.last_point || [NaN, NaN];
      check(done && s.strokes === before + 3, `${tag} three finger strokes make three strokes`, `strokes ${before} -> ${s.strokes}`);
      check(Math.abs(p[0] - 0.68) < 0.03 && Math.abs(p[1] - 0.52) < 0.03, `${tag} the last stroke ends where the finger did`,
            `last point ${p.map(v => v.toFixed(3)).join(', ')}, expected 0.680, 0.520`);
      check(!s.empty && typeof s.elbo === 'number' && typeof s.kl === 'number' && s.z.every(Number.isFinite),
            `${tag} the drawing is encoded`, `ELBO ${s.elbo?.toFixed(2)}, KL ${s.kl?.toFixed(2)}, z ${s.z.slice(0, 2).map(v => v.toFixed(3)).join(', ')}`);
      mkdirSync(out, { recursive: true });
      const shot = join(out, `touch-${name}-draw.png`);
      await page.screenshot({ path: shot });
      const png = execFileSync('/usr/bin/python3', [join(here, '../../tests/e2e/png_check.py'), shot, '--min-colours', '8',
                               '--size', `${vw * screen.deviceScaleFactor}x${vh * screen.deviceScaleFactor}`], { encoding: 'utf8' });
      check(true, `${tag} screenshot after drawing is not blank`, png.trim());
      checkNew(`${tag} the app knows the pointer is a finger`,
               () => check(need(s, 'touch') === true, `${tag} the app knows the pointer is a finger`, `touch ${s.touch}`));
      checkNew(`${tag} the hint is gone after the first stroke`,
               () => check(need(s, 'hint') === false, `${tag} the hint is gone after the first stroke`, `hint ${s.hint}`));
    });

    // 3. A swipe on a column's empty part scrolls that column by about as far as the finger went, and draws nothing.
    await step('a swipe scrolls its column', async () => {
      let s = await state();
      const layout = need(s, 'layout');
      if (narrow)
        check(layout.scroll_max[0] > vh, `${tag} the one column is taller than the screen`, `scroll_max ${layout.scroll_max[0]}`);
      // The column with the most left to scroll (the phone's only one).
      const room = layout.scroll_max.map((m, c) => m - layout.scroll[c]);
      const col = room.indexOf(Math.max(...room));
      if (room[col] < 20) {
        console.log(`note ${tag} no column is taller than the window (scroll_max ${JSON.stringify(layout.scroll_max)}): no swipe to test`);
        return;
      }
      const t = top(s), d = Math.round(Math.min(300, 0.4 * (vh - t))), strokes = s.strokes;
      const p = quietSpot(s, col, t + d + 20, vh - 20);
      if (!p) throw new Error(`no quiet spot in column ${col} to swipe on`);
      const expected = Math.min(d, room[col]);
      let held = null;
      await swipe(p, [p[0], p[1] - d], 10, { hold: 2, beforeRelease: async () => { held = await state(); } });
      await waitFrames(3);
      s = await state();
      const moved = held.layout.scroll[col] - layout.scroll[col];
      check(Math.abs(moved - expected) <= 0.3 * expected + 10,
            `${tag} a finger swiped ${d} px up from a quiet spot scrolls column ${col} by about that much`,
            `from ${p.map(v => v.toFixed(0)).join(',')}: scroll ${layout.scroll[col].toFixed(0)} -> ${held.layout.scroll[col].toFixed(0)} ` +
            `with the finger down (${moved.toFixed(0)}, expected ${expected.toFixed(0)}), ${s.layout.scroll[col].toFixed(0)} after`);
      const others = layout.scroll.map((v, c) => c !== col && s.layout.scroll[c] !== v).some(Boolean);
      check(s.layout.scroll[col] >= held.layout.scroll[col] - 10 && !others, `${tag} the scroll stays after the finger lifts, other columns unmoved`,
            `scroll ${JSON.stringify(layout.scroll)} -> ${JSON.stringify(s.layout.scroll)}`);
      check(s.strokes === strokes, `${tag} the swipe draws nothing`, `strokes ${strokes} -> ${s.strokes}`);
    });

    // The one column's section bar: a tap jumps to a section (Models, at the foot), another back to the top (Draw).
    if (narrow) {
      await step('the section bar jumps to a section and back', async () => {
        let s = await state();
        const bar0 = needWidget(s, 'section_draw'), scroll0 = need(s, 'layout.scroll')[0];
        await tap('section_models');
        const there = await waitFor(`const w = s.widgets.open_model_file;
          return s.layout.scroll[0] > a.scroll + a.vh / 2 && w && w.y >= a.top && w.y + w.h <= a.vh`, { scroll: scroll0, vh, top: top(s) });
        s = await state();
        const w = s.widgets.open_model_file;
        check(there, `${tag} tapping Models in the section bar brings the Models panel on screen`,
              `scroll ${scroll0.toFixed(0)} -> ${s.layout.scroll[0].toFixed(0)} of ${s.layout.scroll_max[0].toFixed(0)}; ` +
              `open_model_file at ${w ? rect(w) : 'none'}`);
        const bar1 = needWidget(s, 'section_draw');
        check(Math.abs(bar1.y - bar0.y) < 1, `${tag} the section bar stays at the top`, `section_draw at ${rect(bar0)}, then ${rect(bar1)}`);
        await tap('section_draw');
        const back = await waitFor('return s.layout.scroll[0] < 0.5');
        s = await state();
        check(back && s.canvas.y >= top(s), `${tag} tapping Draw brings the column back to the top`,
              `scroll ${s.layout.scroll[0].toFixed(0)}, canvas at ${rect(s.canvas)}`);
        // Swiped down to the grid, as a person scrolls to it.
        const g = await swipeTo('grid');
        check(true, `${tag} swiped down to the grid`, `grid at ${rect(g)}, scroll ${(await state()).layout.scroll[0].toFixed(0)}`);
      });
    }

    // 4. A tapped grid cell is selected.
    let selected = null;
    await step('a tapped grid cell is selected', async () => {
      const g = await swipeTo('grid');
      await waitFor('return !s.grid.pending && s.grid.cells > 0', null, 30000);
      let s = await state();
      const n = s.grid.n, old = s.grid.selected;
      let row = Math.floor(0.3 * n), col = Math.floor(0.7 * n);
      if (row * n + col === old) row += 1;
      const idx = row * n + col;  // as the grid reads a click: the cell under the point, row-major
      await tapAt(g.x + (col + 0.5) * g.w / n, g.y + (row + 0.5) * g.h / n);
      need(s, 'grid.selected');
      const ok = await waitFor('return s.grid.selected === a', idx, 5000);
      s = await state();
      selected = s.grid.selected;
      check(ok, `${tag} tapping grid cell (row ${row}, column ${col}) of ${n}x${n} selects it`,
            `grid.selected ${s.grid.selected}, expected ${idx}`);
    });

    // 5. Pinching the grid zooms it about three times (fingers 60 -> 180 px apart); it neither selects nor draws.
    await step('a pinch zooms the grid', async () => {
      const g = await swipeTo('grid');
      await waitFor('return !s.grid.pending', null, 30000);
      let s = await state();
      const zoom0 = s.grid.zoom, sel0 = s.grid.selected, strokes = s.strokes, version = s.grid.version;
      await pinch(centre(g), 60, 180, 10);
      const redrawn = await waitFor('return s.grid.version > a && !s.grid.pending', version, 15000);
      s = await state();
      const f = s.grid.zoom / zoom0;
      check(redrawn && f >= 2 && f <= 4.5, `${tag} pinching the grid apart 60 -> 180 px zooms it about 3x`,
            `zoom ${zoom0.toFixed(3)} -> ${s.grid.zoom.toFixed(3)} (x${f.toFixed(2)}, expected 2..4.5)${redrawn ? '' : '; the grid was not redrawn'}`);
      checkNew(`${tag} the pinch selects no cell`, () => check(need(s, 'grid.selected') === sel0 &&
               (selected === null || sel0 === selected), `${tag} the pinch selects no cell`, `selected ${sel0} -> ${s.grid.selected}`));
      check(s.strokes === strokes, `${tag} the pinch on the grid draws nothing`, `strokes ${strokes} -> ${s.strokes}`);
      await waitFrames(2);
      await page.screenshot({ path: join(out, `touch-${name}-grid.png`) });
    });

    // ... and the latent map: its span shrinks about three times.
    await step('a pinch zooms the map', async () => {
      const m = await swipeTo('map');
      let s = await state();
      const view0 = need(s, 'map_view'), strokes = s.strokes;
      await pinch(centre(m), 60, 180, 10);
      await waitFrames(2);
      s = await state();
      const f = view0[2] / s.map_view[2];
      check(f >= 2 && f <= 4.5, `${tag} pinching the map apart 60 -> 180 px narrows its span about 3x`,
            `span ${view0[2].toFixed(3)} -> ${s.map_view[2].toFixed(3)} (/${f.toFixed(2)}, expected 2..4.5)`);
      check(s.strokes === strokes, `${tag} the pinch on the map draws nothing`, `strokes ${strokes} -> ${s.strokes}`);
    });

    // 6. A "(?)" opens its help on a tap; a tap on empty space closes it.
    await step('help opens on a tap and closes on a tap elsewhere', async () => {
      let s = await state();
      needWidget(s, 'help_copy_link');
      const h = await swipeTo('help_copy_link');
      await tap('help_copy_link');
      const open = await waitFor('return s.help_open === "copy_link"', null, 5000);
      s = await state();
      check(open, `${tag} tapping the "(?)" beside Copy link opens its help`, `help_open ${JSON.stringify(s.help_open)}`);
      await waitFrames(1);
      await page.screenshot({ path: join(out, `touch-${name}-help.png`) });
      const strokes = s.strokes, t = top(s);
      const p = quietSpot(s, columnOf(s, h), t + 20, vh - 20, { from: centre(h), avoid: 250 }) ||
                quietSpot(s, columnOf(s, h), t + 20, vh - 20);
      if (!p) throw new Error('no empty spot to tap on');
      await tapAt(...p);
      const closed = await waitFor('return s.help_open === null', null, 5000);
      s = await state();
      check(closed, `${tag} a tap on empty space closes it`,
            `tapped ${p.map(v => v.toFixed(0)).join(',')}; help_open ${JSON.stringify(s.help_open)}`);
      check(s.strokes === strokes, `${tag} the tap elsewhere draws nothing`, `strokes ${strokes} -> ${s.strokes}`);
    });

    check(pageMoves.length === 0, `${tag} the page itself never scrolls or zooms`, pageMoves.join(' | '));
  } catch (e) {
    check(false, `${tag} the touch test ran to the end`, e.message.split('\n')[0]);
  } finally {
    check(errors.length === 0, `${tag} no console errors`, errors.join(' | '));
    await close();
  }
}

const server = await startServer(site, 0);
try {
  mkdirSync(out, { recursive: true });
  for (const screen of screens) await runScreen(server, screen);
} finally {
  server.close();
}
process.exit(summary());
