// The product page's weight and speed, measured in Debian's headless Chromium (WebGL2 on SwiftShader) driven by
// playwright-core, with the page served by web/serve.mjs (compressed) on 127.0.0.1:
//   a. bytes on the wire for the page, the app (js + wasm), the default model and the Repair panel's test digits, per file and in total
//      (Chrome DevTools Protocol: each response's encodedDataLength, headers included; MB = 10^6 bytes);
//      each file as the server sends it once precompress() has made its brotli bytes;
//   b. from navigation start to the first frame one can draw on (the page's performance.mark('vae-ready'), set
//      after the first frame drawn with the model: src/app/main.cpp), in fresh browsers (new profile, no cache),
//      each left idle for --settle-ms after its launch as a user's browser is already running (with 0 the page
//      also pays for the browser's own start-up, which roughly doubles the time here);
//   c. frame times while the latent grid (N = 20, mnist-z2) is dragged and wheel-zoomed with real mouse events:
//      the app's own work per frame (input, decoding, the panels), the whole frame() call (with the GL calls, which
//      wait for the GPU process when it is behind: Module.vaeStudioOnFrame), the intervals between animation
//      frames (what one sees: at 60 Hz, 16.7 ms when no frame is dropped), how often the grid on show was
//      replaced by a newer view's decode, and how many frames drew something and how much of the window
//      (the page redraws only what changed: src/app/damage.hpp).
// A measuring program, not a timed test: it prints a markdown table and writes it, and the raw figures as JSON,
// to --out. With --bytes-only it measures (a) once and exits 1 when the total is over the budget (1.3 MB).
//   node web/tests/perf.mjs [--site build-web/site] [--runs 5] [--out build-web/perf.md] [--bytes-only] [--budget B]
//                           [--width 1280 --height 800 --dpr 1] [--settle-ms 2000] [--pan-seconds 4] [--zoom-seconds 3]
import { mkdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';
import { precompress, startServer } from '../serve.mjs';
import { arg } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const site = resolve(arg('site', join(here, '../../build-web/site')));
const out = resolve(arg('out', join(site, '../perf.md')));
const runs = Number(arg('runs', 5));
const bytesOnly = process.argv.includes('--bytes-only');
const VIEW = { width: Number(arg('width', 1280)), height: Number(arg('height', 800)) };
const DPR = Number(arg('dpr', 1));
const PAN_S = Number(arg('pan-seconds', 4)), ZOOM_S = Number(arg('zoom-seconds', 3));
const SETTLE_MS = Number(arg('settle-ms', 2000));
const BUDGET = Number(arg('budget', 1.3e6));  // bytes: html + js + wasm + default model + test digits on the wire
const READY_TARGET_MS = 1000;  // median navigation -> first frame one can draw on
const FRAME_MS = 1000 / 60;    // one frame at 60 Hz: 16.7 ms
// What the page needs before one can draw: its files, relative to the site.
// The Repair panel's test digits are fetched on the first frame (its default input), so they count too.
const PAGE_FILES = ['index.html', 'vae-studio.js', 'vae-studio.wasm', 'assets/mnist-z2.safetensors',
                    'assets/mnist-test-100.safetensors'];

const sleep = ms => new Promise(ok => setTimeout(ok, ms));
const median = v => quantile(v, 0.5);
function quantile(values, q) {  // linear interpolation between the closest ranks
  if (!values.length) return NaN;
  const s = [...values].sort((a, b) => a - b), at = (s.length - 1) * q, lo = Math.floor(at);
  return lo + 1 < s.length ? s[lo] + (s[lo + 1] - s[lo]) * (at - lo) : s[lo];
}
const fmtBytes = n => n.toLocaleString('en-US');
const fmtMB = n => `${(n / 1e6).toFixed(3)} MB`;
const ms = x => Number.isFinite(x) ? x.toFixed(1) : '-';

// A fresh browser (new profile: nothing cached, no compiled code or shaders kept) for one measurement.
async function withBrowser(fn) {
  const { context, close } = await launchChromium({ viewport: VIEW, deviceScaleFactor: DPR });
  try {
    return await fn(context, context.pages()[0] || await context.newPage());
  } finally {
    await close();
  }
}

// Loads the page once: what crossed the wire per request, and the page's own timings (ms from navigation start).
async function loadOnce(context, page, url) {
  const cdp = await context.newCDPSession(page);
  const requests = new Map();  // requestId -> { url, status, encoding, headers, body, wire }
  cdp.on('Network.requestWillBeSent', e => requests.set(e.requestId, { url: e.request.url }));
  cdp.on('Network.responseReceived', e => {
    const r = requests.get(e.requestId), h = {};
    if (!r) return;
    for (const [k, v] of Object.entries(e.response.headers)) h[k.toLowerCase()] = v;
    // encodedDataLength here: the bytes received so far, i.e. the response's headers
    Object.assign(r, { status: e.response.status, encoding: h['content-encoding'] || 'identity',
                       headers: e.response.encodedDataLength, body: Number(h['content-length']) });
  });
  cdp.on('Network.loadingFinished', e => { const r = requests.get(e.requestId); if (r) r.wire = e.encodedDataLength; });
  // Chromium can report a brotli body read to its end as aborted, without its length: headers + Content-Length.
  cdp.on('Network.loadingFailed', e => {
    const r = requests.get(e.requestId);
    if (r) Object.assign(r, { wire: r.headers + r.body, failed: e.errorText });
  });
  await cdp.send('Network.enable');
  const errors = [];
  page.on('pageerror', e => errors.push(e.message));
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });

  await sleep(SETTLE_MS);
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName('vae-ready').length > 0, null, { timeout: 60000 });
  await page.waitForFunction(() => performance.getEntriesByType('resource').some(r => r.name.endsWith('/mnist-test-100.safetensors')),
                             null, { timeout: 60000 });
  const t = await page.evaluate(() => {
    const end = name => performance.getEntriesByType('resource').find(r => r.name.endsWith(name))?.responseEnd;
    return {
      ready: performance.getEntriesByName('vae-ready')[0].startTime,
      html: performance.getEntriesByType('navigation')[0].responseEnd,
      js: end('/vae-studio.js'), wasm: end('/vae-studio.wasm'), model: end('/mnist-z2.safetensors'),
    };
  });
  // Resource timing's last entries can arrive after the mark; wait until every request has finished.
  for (let i = 0; i < 100 && [...requests.values()].some(r => r.wire === undefined && !r.url.startsWith('data:')); i++)
    await sleep(50);
  await cdp.detach();
  if (errors.length) throw new Error(`the page reported errors: ${errors.join(' | ')}`);
  return { timings: t, requests: [...requests.values()].filter(r => !r.url.startsWith('data:')) };
}

// (a) from one load's requests: the files the page needs at start, with their sizes on disk.
function pageWeight(requests, base) {
  const files = PAGE_FILES.map(f => {
    const r = requests.find(q => q.url === base + (f === 'index.html' ? '' : f));
    if (!r || r.wire === undefined) throw new Error(`no finished request for ${f}`);
    if (r.status !== 200) throw new Error(`${f}: HTTP ${r.status}`);
    return { file: f, size: statSync(join(site, f)).size, encoding: r.encoding, body: r.body, wire: r.wire };
  });
  const other = requests.filter(r => !files.some(f => r.url === base + (f.file === 'index.html' ? '' : f.file)));
  const total = files.reduce((s, f) => s + f.wire, 0);
  return { files, total, other: other.map(r => ({ url: r.url, wire: r.wire })), budget: BUDGET, ok: total <= BUDGET };
}

// Median, p95, max and how many are over one 60 Hz period (rAF intervals: over by more than 0.5 ms of jitter).
function spread(v, slack = 0) {
  return { median: median(v), p95: quantile(v, 0.95), max: Math.max(...v), over: v.filter(x => x > FRAME_MS + slack).length };
}
function frameStats(raf, work) {
  const gaps = raf.slice(1).map((t, i) => t - raf[i]);
  return {
    frames: work.length,
    app: spread(work.map(w => w[0])),
    frame: spread(work.map(w => w[1])),
    // the share of the window each frame redrew (0: nothing had changed; 1: all of it)
    drawn: { frames: work.filter(w => w[2] > 0).length,
             meanWhenDrawn: work.filter(w => w[2] > 0).reduce((s, w) => s + w[2], 0) / Math.max(1, work.filter(w => w[2] > 0).length) },
    seconds: raf.length > 1 ? (raf[raf.length - 1] - raf[0]) / 1000 : 0,
    // vsyncs without a frame: an interval of k frame periods skipped k - 1 of them
    raf: { ...spread(gaps, 0.5), missed: gaps.reduce((s, g) => s + Math.max(0, Math.round(g / FRAME_MS) - 1), 0) },
  };
}

// (c) the grid panel: idle, then a drag in circles, then wheel zoom in and out about its middle.
async function gridFrames(page) {
  const state = () => page.evaluate(() => window.vaeStudio.state());
  await page.waitForFunction(() => {
    const s = window.vaeStudio.ready && window.vaeStudio.state();
    return s && s.model === 'mnist-z2' && s.grid.n === 20 && s.grid.cells === 400 && s.widgets && s.widgets.grid;
  }, null, { timeout: 60000 });
  const g = (await state()).widgets.grid;
  const cx = g.x + g.w / 2, cy = g.y + g.h / 2, radius = g.w * 0.2;
  // Every animation frame's timestamp, and the app's work in each of its frames, tagged with the phase.
  await page.evaluate(() => {
    const p = window.vaePerf = { phase: 'idle', raf: [], work: [] };
    const tick = t => { p.raf.push([p.phase, t]); requestAnimationFrame(tick); };
    requestAnimationFrame(tick);
    Module.vaeStudioOnFrame = (appMs, frameMs, drawn) => p.work.push([p.phase, appMs, frameMs, drawn]);
  });
  const phase = name => page.evaluate(n => { window.vaePerf.phase = n; }, name);
  const view = async () => { const s = await state(); return { center: s.grid.center, zoom: s.grid.zoom, version: s.grid.version }; };

  await page.mouse.move(cx, cy);
  await sleep(1000);
  const v0 = await view();
  await phase('pan');
  await page.mouse.down();
  let moves = 0;
  const t0 = Date.now();
  while (Date.now() - t0 < PAN_S * 1000) {
    const a = (Date.now() - t0) / 1000 * 2 * Math.PI / 1.5;  // a circle every 1.5 s
    await page.mouse.move(cx + radius * Math.sin(a), cy - radius + radius * Math.cos(a));
    moves++;
    await sleep(FRAME_MS / 2);
  }
  await page.mouse.up();
  await phase('between');
  const v1 = await view();
  await page.mouse.move(cx, cy);
  await sleep(300);
  await phase('zoom');
  let wheels = 0;
  const t1 = Date.now();
  while (Date.now() - t1 < ZOOM_S * 1000) {
    // One notch (100 px) per event; 10 in, then 10 out.
    await page.mouse.wheel(0, Math.floor(wheels / 10) % 2 ? 100 : -100);
    wheels++;
    await sleep(FRAME_MS * 2);
  }
  await phase('done');
  const v2 = await view();
  const p = await page.evaluate(() => window.vaePerf);
  const phaseStats = name => frameStats(p.raf.filter(r => r[0] === name).map(r => r[1]),
                                        p.work.filter(w => w[0] === name).map(w => w.slice(1)));
  return {
    grid: { n: 20, rect: g }, moves, wheels,
    idle: phaseStats('idle'),
    pan: { ...phaseStats('pan'), decodes: v1.version - v0.version, from: v0.center, to: v1.center },
    zoom: { ...phaseStats('zoom'), decodes: v2.version - v1.version, zoomFrom: v1.zoom, zoomTo: v2.zoom },
  };
}

function table(r) {
  const L = [];
  L.push(`Page weight on the wire (web/serve.mjs, Chromium's Accept-Encoding; MB = 10^6 bytes, headers included):`, '');
  L.push('| file | on disk | encoding | on the wire |', '|---|---:|---|---:|');
  for (const f of r.weight.files) L.push(`| ${f.file} | ${fmtBytes(f.size)} | ${f.encoding} | ${fmtBytes(f.wire)} |`);
  L.push(`| **total** | ${fmtBytes(r.weight.files.reduce((s, f) => s + f.size, 0))} | | **${fmtBytes(r.weight.total)}** ` +
         `(${fmtMB(r.weight.total)}; budget ${fmtMB(BUDGET)}: ${r.weight.ok ? 'met' : 'NOT met'}) |`);
  if (r.ready) {
    const v = r.ready.map(x => x.timings.ready);
    const part = k => median(r.ready.map(x => x.timings[k]));
    L.push('', `Navigation start to the first frame one can draw on, ${v.length} fresh browsers ` +
           `(each idle ${SETTLE_MS} ms after launch): ` +
           `median **${ms(median(v))} ms** [${ms(Math.min(...v))} .. ${ms(Math.max(...v))}] ` +
           `(target ${READY_TARGET_MS} ms: ${median(v) <= READY_TARGET_MS ? 'met' : 'NOT met'}); ` +
           `medians of the downloads' ends: html ${ms(part('html'))}, js ${ms(part('js'))}, ` +
           `wasm ${ms(part('wasm'))}, model ${ms(part('model'))} ms.`);
  }
  if (r.grid) {
    const G = r.grid;
    L.push('', `Latent grid 20x20 (mnist-z2), ${VIEW.width}x${VIEW.height} at devicePixelRatio ${DPR}, in ms, median / p95 ` +
           `[frames over 16.7 ms]: app = input, decoding and the panels; frame() = that and the GL calls, which wait ` +
           `for the GPU process when it is behind; interval = between animation frames, what one sees:`, '');
    L.push('| phase | frames | grid decodes (per s) | app | frame() | interval | vsyncs missed | frames that drew, mean share of the window |',
           '|---|---:|---:|---|---|---|---:|---:|');
    const cell = x => `${ms(x.median)} / ${ms(x.p95)} [${x.over}]`;
    for (const [name, s] of [['idle', G.idle], [`drag (${G.moves} moves)`, G.pan], [`wheel zoom (${G.wheels} notches)`, G.zoom]])
      L.push(`| ${name} | ${s.frames} | ${s.decodes ?? 0} (${((s.decodes ?? 0) / Math.max(s.seconds, 1e-9)).toFixed(1)}) | ` +
             `${cell(s.app)} | ${cell(s.frame)} | ${cell(s.raf)} | ${s.raf.missed} | ` +
             `${s.drawn.frames}, ${(100 * s.drawn.meanWhenDrawn).toFixed(0)} % |`);
  }
  return L.join('\n') + '\n';
}

const server = await startServer(site, 0);
const base = `http://127.0.0.1:${server.address().port}/`;
const result = { site, date: new Date().toISOString(), view: { ...VIEW, dpr: DPR }, settleMs: SETTLE_MS };
let failed = false;
try {
  for (const f of PAGE_FILES) statSync(join(site, f));  // a clear error when the site is incomplete
  await precompress(site, PAGE_FILES);  // the smallest coding is ready before the first request
  const loads = [];
  for (let i = 0; i < (bytesOnly ? 1 : runs); i++) {
    loads.push(await withBrowser((context, page) => loadOnce(context, page, base)));
    if (!bytesOnly) console.error(`load ${i + 1}/${runs}: ready at ${ms(loads[i].timings.ready)} ms`);
  }
  result.weight = pageWeight(loads[0].requests, base);
  failed = !result.weight.ok;
  if (!bytesOnly) {
    result.ready = loads.map(l => ({ timings: l.timings }));
    result.grid = await withBrowser(async (context, page) => {
      await page.goto(base);
      return gridFrames(page);
    });
  }
} catch (e) {
  console.error(`perf: ${e.message.split('\n')[0]}`);
  failed = true;
} finally {
  server.close();
}
if (result.weight) {
  const md = table(result);
  console.log(md);
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, md);
  writeFileSync(out.replace(/(\.md)?$/, '.json'), JSON.stringify(result, null, 1) + '\n');
}
process.exit(failed ? 1 : 0);
