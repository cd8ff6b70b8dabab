// The page under faults and long use, end to end in Debian's headless Chromium (WebGL2 on SwiftShader), driven by
// playwright-core as web/chromium.mjs launches it. It is not the smoke test: that one checks the features; this one checks
// that nothing the network, the GPU or the user does loses work or breaks the page:
//   faults   model files that are missing, truncated, cut off mid-download, stalled, corrupted (bad header JSON,
//            a shape that does not match, NaN weights) or answered with HTTP 500, also as the page's first
//            model: each shows a message naming the model and the page goes on with the model it had (or none),
//            draws, and loads a good model afterwards.
//   context  a lost WebGL context (WEBGL_lose_context): the page explains it, and once the context is restored
//            it draws again with the drawing still there (pixels compared), twice in a row.
//   switch   24 model requests in two bursts, faster than the downloads (the server delays each one by a random
//            time, so they finish out of order), then again from the cache: the last model asked for is the one
//            in use and everything shown is computed by it.
//   resize   thirty window sizes in a row, some in the middle of a stroke: the canvas follows, strokes land right.
//   session  a fresh page, then a scripted drawing session of --duration seconds (strokes, clear, undo with the
//            button and with Ctrl+Z, prior samples, temperature, grid pan / zoom / size / click / send to canvas,
//            map hovering, morph slots): the wasm heap does not grow, and no network request is made after load.
// The console must stay free of errors and the page must throw nothing, except the browser's own lines about
// the failing downloads asked for.
//   node web/tests/faults.mjs --site build-web/site [--duration 300] [--out DIR] [--seed N] [--only a,b]
// --duration: the session's length in seconds, its first (warm-up) cycle included; 300, the five minutes;
// --only: run some phases (faults,context,switch,resize,session), for development; FAULTS_DEBUG=1 echoes the
// page's console.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';
import { pageDriver } from './page_driver.mjs';
import { startServer } from '../serve.mjs';
import { arg, checks } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const site = resolve(arg('site', join(here, '../../build-web/site')));
const out = resolve(arg('out', join(site, '../screenshots')));
const DURATION = Number(arg('duration', '300'));
const SEED = Number(arg('seed', '1'));
const PHASES = arg('only', 'faults,context,switch,resize,session').split(',');
const VIEW = { width: 1000, height: 750 };          // the window, except in the session
const SESSION_VIEW = { width: 1280, height: 1024 };  // tall enough for every widget the session uses to be on screen
const MODELS = { 'mnist-z2': 2, 'mnist-z32': 32, 'fashion-z2': 2 };  // the shipped models and their latent size
// Growth allowed over the session of malloc's bytes in use and of the JS heap (the session phase says why).
const IN_USE_TOLERANCE = 64 * 1024, JS_TOLERANCE = 1024 * 1024;
if (!(DURATION >= 0)) throw new Error(`--duration: expected seconds, not ${arg('duration')}`);

const { check, summary } = checks();
const mib = n => `${(n / 1048576).toFixed(2)} MiB`;

// A small deterministic PRNG (mulberry32) for the session's strokes, delays and sizes.
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const rand = prng(SEED);
const pick = list => list[Math.floor(rand() * list.length)];

// ---- the server: the built site (web/serve.mjs's handler), plus faulty model files made from a real one ----
for (const name of Object.keys(MODELS)) readFileSync(join(site, `assets/${name}.safetensors`));  // all present
// The F16 file (the page's default is the int8 one, whose weights hold no NaN to write): the corruptions below
// write F16 values.
const good = readFileSync(join(site, 'assets/f16/mnist-z2.safetensors'));
const dataStart = 8 + Number(good.readBigUInt64LE(0));
const corrupt = edit => { const b = Buffer.from(good); edit(b); return b; };
const FAULTS = {
  'e2e-truncated': good.subarray(0, Math.floor(good.length * 0.6)),  // a partial file, its own length announced
  'e2e-empty': Buffer.alloc(0),
  'e2e-badheader': corrupt(b => { b[8 + 1] = 0x21; }),  // '{"__metadata__"...' becomes '{!__metadata__"...'
  'e2e-badshape': corrupt(b => {  // valid JSON, but a weight's shape no longer matches its bytes
    const at = b.indexOf('784]', b.indexOf('"shape"', 8));
    if (at < 0 || at >= dataStart) throw new Error('no shape to corrupt in mnist-z2');
    b.write('783]', at);
  }),
  'e2e-nan': corrupt(b => { b.writeUInt16LE(0x7e00, dataStart + 1000); }),  // an F16 NaN among the weights
};
const stalled = [];  // responses left hanging on purpose
let delayModels = false;  // the switch phase: every model file waits a random time before it is sent
const upstream = await startServer(site, 0);
const server = createServer((req, res) => {
  const path = new URL(req.url, 'http://localhost').pathname;
  const fault = /^\/assets\/(e2e-[a-z0-9-]+)\.safetensors$/.exec(path)?.[1];
  const send = (status, body) => res.writeHead(status, { 'Content-Type': 'application/octet-stream',
                                                         'Content-Length': body.length, 'Cache-Control': 'no-store' })
                                  .end(body);
  if (fault && FAULTS[fault]) return send(200, FAULTS[fault]);
  if (fault === 'e2e-http500') return send(500, Buffer.from('internal error'));
  if (fault === 'e2e-cut' || fault === 'e2e-stall') {  // the full length announced, part of the bytes sent
    res.writeHead(200, { 'Content-Type': 'application/octet-stream', 'Content-Length': good.length });
    res.write(good.subarray(0, Math.floor(good.length * 0.4)));
    if (fault === 'e2e-cut') setTimeout(() => res.socket.destroy(), 100);
    else stalled.push(res);
    return;
  }
  if (delayModels && path.endsWith('.safetensors')) {
    setTimeout(() => upstream.emit('request', req, res), 100 + Math.floor(rand() * 1400));
    return;
  }
  upstream.emit('request', req, res);
});
await new Promise(ok => server.listen(0, '127.0.0.1', ok));
const url = `http://127.0.0.1:${server.address().port}/`;
// The browser's own console lines about the downloads that fail on purpose.
const FAILING = /\/assets\/e2e-(missing|http500|cut|stall)\.safetensors/;

const { context, close } = await launchChromium({ viewport: VIEW, deviceScaleFactor: 1 });
const t0 = Date.now();
mkdirSync(out, { recursive: true });

try {
  const page = context.pages()[0] || await context.newPage();
  const cdp = await context.newCDPSession(page);
  const errors = [];
  let phase = 'start', phaseStart = Date.now();
  const begin = (name, title) => {
    if (phase !== 'start') console.log(`     (${phase}: ${((Date.now() - phaseStart) / 1000).toFixed(0)} s)`);
    phase = name;
    phaseStart = Date.now();
    if (title) console.log(`-- ${title}`);
  };
  page.on('console', m => {
    if (m.type() === 'error' && !FAILING.test(m.location().url)) errors.push(`${phase}: ${m.text()}`);
  });
  page.on('pageerror', e => errors.push(`${phase}: uncaught ${e.message}`));
  if (process.env.FAULTS_DEBUG) page.on('console', m => console.log('   console', m.type(), m.text()));

  const { state, waitState, waitFrames, widget, click, drag, scrollIntoView } = pageDriver(page);
  const load = async (query = '') => {
    await page.goto(url + query);
    await waitState('return s.frame > 5 && s.loading === "" && (s.model !== "" || s.message !== "")');
    await page.locator('#overlay').waitFor({ state: 'hidden' });
  };
  const banner = async () => (await page.locator('#banner').isVisible()) ? await page.locator('#banner').textContent() : '';

  // Input as a user gives it: real mouse events at the widgets' places (pageDriver's widget, click and drag).
  // A digit-like stroke: a random arc of 8 to 16 points inside the canvas.
  const strokePoints = () => {
    const cx = 0.3 + 0.4 * rand(), cy = 0.3 + 0.4 * rand(), rx = 0.1 + 0.15 * rand(), ry = 0.1 + 0.2 * rand();
    const a0 = rand() * 6.28, span = 2 + 3 * rand(), n = 8 + Math.floor(rand() * 9);
    return Array.from({ length: n }, (_, i) => {
      const a = a0 + span * i / (n - 1);
      return [cx + rx * Math.cos(a), cy + ry * Math.sin(a)];
    });
  };
  const drawStroke = async () => drag((await state()).canvas, strokePoints());
  // Draws a stroke and checks the model encodes the drawing.
  const drawAndCheck = async what => {
    const before = await state();
    await drawStroke();
    await waitState('return s.strokes === a && !s.empty && s.z.length > 0', before.strokes + 1);
    const s = await state();
    return check(s.z.every(Number.isFinite) && s.z.length === MODELS[s.model], what,
                 `${s.model}: ${s.strokes} strokes, z (${s.z.slice(0, 2).map(v => v.toFixed(2)).join(', ')}${s.z.length > 2 ? ', ...' : ''})`);
  };

  // Pixels of a screen rectangle (from a screenshot, decoded in the page): how many are ink (brighter than mid
  // grey) and the 32x32 block means, to compare two pictures of the same place.
  const pixels = async r => {
    const png = await page.screenshot({ clip: { x: r.x, y: r.y, width: r.w, height: r.h } });
    return page.evaluate(async b64 => {
      const bin = atob(b64), bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      const bmp = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
      const c = new OffscreenCanvas(bmp.width, bmp.height), g = c.getContext('2d');
      g.drawImage(bmp, 0, 0);
      const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
      const blocks = new Float64Array(32 * 32), counts = new Float64Array(32 * 32);
      let ink = 0;
      for (let y = 0; y < bmp.height; y++)
        for (let x = 0; x < bmp.width; x++) {
          const i = 4 * (y * bmp.width + x), lum = (d[i] + d[i + 1] + d[i + 2]) / 3;
          if (lum > 128) ink++;
          const b = Math.floor(32 * y / bmp.height) * 32 + Math.floor(32 * x / bmp.width);
          blocks[b] += lum;
          counts[b]++;
        }
      return { ink, blocks: Array.from(blocks, (v, i) => v / Math.max(1, counts[i])) };
    }, png.toString('base64'));
  };
  const blockDiff = (a, b) => a.blocks.reduce((s, v, i) => s + Math.abs(v - b.blocks[i]), 0) / a.blocks.length;

  // ---- faults: bad model files ----
  if (PHASES.includes('faults')) {
    begin('faults', 'model files that are missing, truncated, cut off, stalled or corrupted');
    // The page's first model is missing: a message, no model, and the picker still works.
    await load('?model=e2e-missing');
    let s = await state();
    check(s.model === '' && /e2e-missing.*404/.test(s.message), 'a missing first model is reported', s.message);
    check(/e2e-missing/.test(await banner()), 'the page shows it', await banner());
    await page.evaluate(() => window.vaeStudio.requestModel('mnist-z2'));
    await waitState('return s.model === "mnist-z2" && s.loading === ""');
    check(!(await banner()) && (await state()).message === '', 'another model then loads and the message goes');
    await drawAndCheck('and the page draws and encodes with it');

    const cases = [
      ['e2e-missing', /HTTP 404/],
      ['e2e-http500', /HTTP 500/],
      ['e2e-empty', /0 bytes/],
      ['e2e-truncated', /past the end|shorter|bytes/],
      ['e2e-cut', /broke off after \d+ of \d+ bytes/],
      ['e2e-badheader', /JSON/],
      ['e2e-badshape', /shape/],
      ['e2e-nan', /NaN/],
    ];
    for (const [name, why] of cases) {
      const before = await state();
      await page.evaluate(n => window.vaeStudio.requestModel(n), name);
      await waitState('return s.loading === "" && s.message.includes(a)', name);
      s = await state();
      const shown = await banner();
      check(s.model === before.model && why.test(s.message) && shown.includes(name),
            `${name}: refused with a message, the model in use kept`, `${s.message}`);
      await drawAndCheck(`${name}: the page still draws and encodes`);
    }
    // A download that stalls does not hold the page: the next model asked for loads.
    await page.evaluate(() => window.vaeStudio.requestModel('e2e-stall'));
    await waitState('return s.loading === "e2e-stall"');
    await page.waitForTimeout(1000);
    s = await state();
    check(s.loading === 'e2e-stall' && s.model === 'mnist-z2', 'a stalled download shows as loading, the model kept');
    await page.evaluate(() => window.vaeStudio.requestModel('mnist-z32'));
    await waitState('return s.model === "mnist-z32" && s.loading === ""');
    s = await state();
    check(s.message === '' && !(await banner()), 'the next model asked for loads over the stalled one', s.arch);
    await drawAndCheck('and the page draws and encodes with it');
    await page.screenshot({ path: join(out, 'web-faults-models.png') });
  }

  // ---- context: the WebGL context is lost and restored ----
  if (PHASES.includes('context')) {
    begin('context', 'a lost WebGL context');
    await load();
    for (let i = 0; i < 3; i++) await drawStroke();
    await waitState('return s.strokes === 3 && s.log_px !== null');
    for (let round = 1; round <= 2; round++) {
      await waitFrames(3);
      let s = await state();
      const r = s.canvas, before = await pixels(r), strokes = s.strokes, beforeShot = await page.screenshot();
      await page.evaluate(() => {
        window.__loseContext = document.getElementById('canvas').getContext('webgl2').getExtension('WEBGL_lose_context');
        window.__loseContext.loseContext();
      });
      await page.waitForFunction(() => document.getElementById('canvas').getContext('webgl2').isContextLost());
      await page.locator('#banner').waitFor({ state: 'visible' });
      const text = await banner();
      check(/graphics context was lost/.test(text) && /drawing is kept/.test(text),
            `round ${round}: the lost context is explained`, text);
      const f1 = (await state()).frame;
      await page.waitForTimeout(700);
      s = await state();
      check(s.frame === f1 && s.strokes === strokes, `round ${round}: nothing is drawn meanwhile, the drawing is kept`,
            `frame ${f1} -> ${s.frame}`);
      if (round === 1) await page.screenshot({ path: join(out, 'web-faults-context-lost.png') });
      await page.evaluate(() => window.__loseContext.restoreContext());
      await waitState('return s.frame >= a', f1 + 10);
      await page.locator('#banner').waitFor({ state: 'hidden' });
      await waitFrames(3);
      // The whole window, byte for byte: the restored context draws exactly what the lost one showed.
      const after = await pixels(r), afterShot = await page.screenshot();
      check(afterShot.equals(beforeShot) && before.ink > 500,
            `round ${round}: after the restore the page draws again, pixel for pixel as before`,
            afterShot.equals(beforeShot) ? `${before.ink} ink pixels on the canvas`
              : `screenshots differ; canvas ink pixels ${before.ink} -> ${after.ink}, mean block difference ${blockDiff(before, after).toFixed(3)} of 255`);
      await drawStroke();
      await waitFrames(3);
      const more = await pixels(r);
      s = await state();
      check(s.strokes === strokes + 1 && more.ink > after.ink, `round ${round}: a new stroke shows on the canvas`,
            `strokes ${s.strokes}, ink pixels ${after.ink} -> ${more.ink}`);
    }
    await page.screenshot({ path: join(out, 'web-faults-context-restored.png') });
  }

  // ---- switch: many model requests in a row, faster than the downloads ----
  if (PHASES.includes('switch')) {
    begin('switch', 'switching models rapidly');
    await load();
    const names = Object.keys(MODELS);
    const downloads = [];  // the good models' files requested while switching
    page.on('request', req => {
      const m = /\/assets\/([a-z0-9-]+)\.safetensors$/.exec(req.url());
      if (phase === 'switch' && m && MODELS[m[1]]) downloads.push(m[1]);
    });
    const burst = async (count, label) => {
      const asked = [], from = (await state()).model;
      for (let i = 0; i < count; i++) {
        // Now and then a model that fails, never as the last request; the last is not the model in use before.
        const name = i < count - 1 ? (rand() < 0.15 ? pick(['e2e-missing', 'e2e-truncated']) : pick(names))
                                   : pick(names.filter(n => n !== from));
        asked.push(name);
        await page.evaluate(n => window.vaeStudio.requestModel(n), name);
        const frames = Math.floor(rand() * 3);  // 0: the next request comes in the same frame
        if (frames) await waitFrames(frames);
      }
      const last = asked[asked.length - 1];
      await waitState('return s.model === a && s.loading === ""', last);
      await page.waitForTimeout(2000);  // every download still on its way arrives and must change nothing
      await drawStroke();
      await waitState('return !s.empty && s.log_px !== null && !s.grid.pending');
      const s = await state();
      const Z = MODELS[last];
      check(s.model === last && s.loading === '' && s.message === '' && !(await banner()),
            `${label}: the last model asked for is in use, with no message`, `${asked.join(' ')} -> ${s.model}`);
      check(s.arch.includes(`-[${Z}]-`) && s.z.length === Z && s.sigma.length === Z &&
            s.grid.cells === s.grid.n * s.grid.n && s.samples > 0 && s.map_points > 0 && Number.isFinite(s.elbo),
            `${label}: what the page shows comes from that model`,
            `${s.arch}, z of ${s.z.length}, grid ${s.grid.n}x${s.grid.n}, ${s.samples} samples, ${s.map_points} map points`);
    };
    delayModels = true;  // downloads take 0.1 to 1.5 s and finish out of order
    await burst(12, 'downloads in flight');
    delayModels = false;
    const counts = names.map(n => downloads.filter(d => d === n).length);
    check(counts.every(c => c <= 1), 'each model is downloaded once however often it is asked for',
          names.map((n, i) => `${n} ${counts[i]}x`).join(', '));
    for (const n of names) if (!counts[names.indexOf(n)]) await page.evaluate(m => window.vaeStudio.requestModel(m), n);
    await waitState('return s.loading === ""');
    const before = downloads.length;
    await burst(12, 'models from the cache');
    check(downloads.length === before, 'switching between models already loaded downloads nothing',
          `${downloads.length - before} downloads`);
  }

  // ---- resize: the window changes size again and again ----
  if (PHASES.includes('resize')) {
    begin('resize', 'resizing the window repeatedly');
    if (!PHASES.includes('switch')) await load();
    // Across the layouts' breakpoints (one column below 720 px, two below 1100, else three) and to extremes.
    const sizes = [[1280, 1024], [640, 480], [1600, 900], [360, 640], [1024, 768], [200, 150], [800, 1280],
                   [1100, 700], [719, 500], [720, 500], [1099, 800], [1000, 750]];
    for (let i = 0; i < 30; i++) {
      const [width, height] = pick(sizes);
      await page.setViewportSize({ width, height });
      const frames = Math.floor(rand() * 3);
      if (frames) await waitFrames(frames);
    }
    // Some in the middle of a stroke.
    await page.setViewportSize(VIEW);
    await waitFrames(3);
    const strokes = (await state()).strokes;
    await drag((await state()).canvas, strokePoints(), async i => {
      if (i % 3 === 0) await page.setViewportSize({ width: VIEW.width - 40 * i, height: VIEW.height - 20 * i });
    });
    const END = { width: 1180, height: 900 };
    await page.setViewportSize(END);
    await waitFrames(5);
    const size = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
    let s = await state();
    check(size[0] === END.width && size[1] === END.height && s.strokes === strokes + 1,
          'after 30 resizes the canvas is the window\'s size, and the stroke drawn across resizes is one stroke',
          `${size.join('x')}, strokes ${strokes} -> ${s.strokes}`);
    const r = s.canvas;
    await drag(r, [[0.3, 0.5], [0.5, 0.55], [0.7, 0.6]]);
    s = await state();
    const p = s.last_point || [NaN, NaN];
    check(Math.abs(p[0] - 0.7) < 0.02 && Math.abs(p[1] - 0.6) < 0.02, 'strokes land where the pointer goes',
          `last point ${p.map(v => v.toFixed(3)).join(', ')}, expected 0.700, 0.600`);
    await page.screenshot({ path: join(out, 'web-faults-resized.png') });
    await page.setViewportSize(VIEW);
  }

  // ---- session: a long scripted drawing session on a fresh page ----
  if (PHASES.includes('session')) {
    begin('session', `a ${DURATION} s drawing session`);
    await page.setViewportSize(SESSION_VIEW);
    await load();
    await waitFrames(5);
    const requests = [];
    page.on('request', req => { if (phase === 'session') requests.push(`${req.method()} ${req.url()}`); });

    // One cycle leaves the drawing's history as it found it (every stroke it adds is undone at its end), so that
    // the app holds the same data at the end of every cycle and memory can be compared between cycles. Each step
    // is checked for its effect, so that a session that silently stopped doing things fails.
    const expect = (ok, what, s) => {
      if (!ok) throw new Error(`session: ${what} (strokes ${s.strokes}, grid ${s.grid.n}, morph ${s.morph})`);
    };
    const cycle = async () => {
      let s = await state();
      const start = s.strokes;
      for (let k = 0; k < 3; k++) await drawStroke();
      const map = await scrollIntoView('map');
      for (let k = 0; k < 8; k++) {  // hover the map: each point is decoded
        await page.mouse.move(map.x + map.w * (0.2 + 0.6 * rand()), map.y + map.h * (0.2 + 0.6 * rand()));
        await waitFrames(1);
      }
      s = await state();
      expect(s.strokes === start + 3 && !s.empty, 'three strokes drawn and encoded', s);
      await click('a_from_drawing');
      await drawStroke();
      await click('b_from_drawing');  // the morph between the two
      s = await state();
      expect(s.morph > 0, 'the morph between the drawing before and after a stroke', s);
      await click('new_samples');
      await click('temperature', 0.2 + 0.6 * rand());
      await click('new_samples');
      const grid = await scrollIntoView('grid');  // pan, zoom in and out, pick a size, click a cell, send it to the canvas
      const a = [0.3 + 0.4 * rand(), 0.3 + 0.4 * rand()];
      await drag(grid, [a, [a[0] + 0.1, a[1] + 0.05], [a[0] + 0.2, a[1] + 0.1]]);
      await page.mouse.move(grid.x + grid.w / 2, grid.y + grid.h / 2);
      for (const dy of [-100, -100, 100, 100]) {
        await page.mouse.wheel(0, dy);
        await waitFrames(1);
      }
      // Sizes: the largest (30x30 at the slider's right end, so that the warm-up reaches the largest buffers), a
      // random one, and the same one at the end of every cycle. The rect includes the label "N" right of the slider.
      // A grid is decoded over a few frames (App::work_budget_ms): wait until the one asked for is on show.
      const gridShown = () => waitState('return !s.grid.pending');
      await click('grid_n', 0.85);
      await gridShown();
      s = await state();
      expect(s.grid.n === 30 && s.grid.cells === 900, 'the 30x30 grid', s);
      await click('grid_n', 0.85 * rand());
      await gridShown();
      await click('grid', 0.5);
      await click('grid_to_canvas');
      s = await state();
      expect(s.strokes === start + 5, 'a grid cell sent to the canvas', s);
      await click('grid_reset');
      await click('grid_n', 0.55);
      await gridShown();
      await click('clear');
      s = await state();
      expect(s.strokes === start + 6 && s.empty, 'the canvas cleared', s);
      await drawStroke();
      // Undo everything this cycle added: half with the button, half with Ctrl+Z.
      s = await state();
      for (let k = 0; s.strokes > start && k < 20; k++) {
        if (k % 2) await click('undo');
        else { await page.keyboard.press('Control+z'); await waitFrames(2); }
        s = await state();
      }
      expect(s.strokes === start, `undo brings the history back to ${start} strokes`, s);
    };
    // The heap once nothing moves: the wasm heap's size and malloc's bytes in use; the JS heap after a full
    // garbage collection.
    const memory = async () => {
      await waitFrames(5);
      await cdp.send('HeapProfiler.collectGarbage');
      const js = await cdp.send('Runtime.getHeapUsage');
      return { ...(await page.evaluate(() => window.vaeStudio.memory())), js: js.usedSize };
    };
    const show = m => `wasm heap ${mib(m.heap)}, malloc in use ${m.inUse} B, JS heap ${mib(m.js)}`;

    // The session lasts DURATION seconds, its first cycle included; that cycle is the warm-up, after which every
    // buffer and texture has its working size (the heap at load is reported for comparison).
    const startTime = Date.now(), loaded = await memory();
    console.log(`     after load:    ${show(loaded)}`);
    await cycle();
    const first = await memory();
    console.log(`     after warm-up: ${show(first)}  (${((Date.now() - startTime) / 1000).toFixed(0)} s)`);
    let cycles = 1, end = first, nextReport = 60;
    while ((Date.now() - startTime) / 1000 < DURATION) {
      await cycle();
      cycles++;
      const t = (Date.now() - startTime) / 1000;
      if (t >= nextReport && t < DURATION) {
        console.log(`     ${t.toFixed(0).padStart(4)} s, ${String(cycles).padStart(3)} cycles: ${show(await memory())}`);
        nextReport += 60;
      }
    }
    if (cycles > 1) end = await memory();
    const seconds = (Date.now() - startTime) / 1000;
    const s = await state();
    console.log(`     end:           ${show(end)}  (${seconds.toFixed(0)} s)`);
    check(cycles > 1 && s.strokes === 0 && s.message === '', `the session ran ${cycles} cycles in ${seconds.toFixed(0)} s`,
          `${s.frame} frames drawn`);
    // The wasm heap only grows (its memory cannot shrink), so a leak shows as growth once it outgrows the free
    // space: its size must stay exactly the same. malloc's bytes in use are exact: between the end of the warm-up
    // and the end they may differ by what a cycle leaves legitimately (the redo list holds the last cycle's
    // strokes, a few hundred points of 12 bytes), far below 64 KiB; a leak of one 28x28 float image per frame
    // would add ~3 KiB a frame, a leaked 30x30 grid decode 2.8 MiB: both far above it. The JS heap, after a
    // full collection, may move by what V8 compiles or caches; 1 MiB is far below what keeping one state()
    // string per frame (~2 KB) would add over the session.
    check(end.heap === first.heap, 'the wasm heap size does not grow', `${mib(first.heap)} -> ${mib(end.heap)}`);
    const grew = end.inUse - first.inUse;
    check(grew <= IN_USE_TOLERANCE, `malloc's bytes in use grow by at most ${IN_USE_TOLERANCE / 1024} KiB`,
          `${first.inUse} -> ${end.inUse} B (${grew >= 0 ? '+' : ''}${grew})`);
    check(end.js - first.js <= JS_TOLERANCE, `the JS heap grows by at most ${JS_TOLERANCE / 1048576} MiB`,
          `${mib(first.js)} -> ${mib(end.js)}`);
    check(requests.length === 0, 'no network request after the page had loaded',
          requests.length ? `${requests.length}: ${requests.slice(0, 5).join(', ')}` : 'none');
    await page.screenshot({ path: join(out, 'web-faults-session.png') });
  }

  begin('end');
  check(errors.length === 0, 'no console errors and nothing thrown', errors.slice(0, 8).join(' | '));
} catch (e) {
  check(false, 'faults test ran to the end', e.message.split('\n')[0]);
} finally {
  for (const res of stalled) res.destroy();
  await close();
  server.close();
  upstream.close();
}
process.exit(summary(`, ${((Date.now() - t0) / 1000).toFixed(0)} s`));
