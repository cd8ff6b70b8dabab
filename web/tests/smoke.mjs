// The page end to end in Debian's headless Chromium (WebGL2 on SwiftShader), driven by playwright-core:
// it loads, the app draws frames at devicePixelRatio 2, a stroke drawn with real mouse events lands where the
// mouse went, the drawing's code, reconstruction, KL, reconstruction term and ELBO agree with a second
// implementation reading the same model file (vae_reference.mjs), models load on demand, a corrupt or missing
// model leaves the current one in place with a message, a PyTorch state dict opens from the file picker and a
// foreign file dropped on the page is refused, a burst of pointer events inside one frame keeps every point,
// and the console stays free of errors. Screenshots go
// to --out.
//   node web/tests/smoke.mjs --site build-web/site [--fallback-model FILE] [--out build-web/screenshots]
// --fallback-model: served as the default model when the site has none yet (before training has finished),
// and as the model loaded on demand.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { startServer } from '../serve.mjs';
import { pageDriver } from './page_driver.mjs';
import { ReferenceVae, expectedNll, klGaussian } from './vae_reference.mjs';
import { arg, checks } from './report.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const site = resolve(arg('site', join(here, '../../build-web/site')));
const fallbackModel = arg('fallback-model', null);
const out = resolve(arg('out', join(site, '../screenshots')));
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const DPR = 2, VIEW = { width: 1000, height: 700 };
const Z_TOLERANCE = 0.01;  // z and sigma (relative) against the reference: see where it is used

const { check, summary } = checks();

const server = await startServer(site, 0);
const url = `http://127.0.0.1:${server.address().port}/`;
const profile = mkdtempSync(join(tmpdir(), 'vae-studio-chromium-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM,
  headless: true,
  args: ['--headless', '--use-angle=swiftshader', '--enable-unsafe-swiftshader', '--no-sandbox', '--disable-quic',
         '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  viewport: VIEW,
  deviceScaleFactor: DPR,
  hasTouch: true,
});

try {
  const page = context.pages()[0] || await context.newPage();
  const consoleErrors = [];
  page.on('console', m => { if (m.type() === 'error') consoleErrors.push({ text: m.text(), url: m.location().url }); });
  page.on('pageerror', e => consoleErrors.push({ text: `uncaught: ${e.message}`, url: '' }));

  // Models the site does not have are served by the test: the fallback (a real model file) and a corrupt one.
  const defaultModel = join(site, 'assets/mnist-z2.safetensors');
  const modelFile = existsSync(defaultModel) ? defaultModel : fallbackModel;  // what the page opens first
  if (!existsSync(defaultModel)) {
    if (!fallbackModel) throw new Error(`${defaultModel} is missing and no --fallback-model was given`);
    console.log(`note: no ${defaultModel} yet; serving ${fallbackModel} in its place`);
    await page.route('**/assets/mnist-z2.safetensors', r => r.fulfill({ path: fallbackModel }));
  }
  if (fallbackModel) await page.route('**/assets/e2e-random.safetensors', r => r.fulfill({ path: fallbackModel }));
  await page.route('**/assets/e2e-corrupt.safetensors',
                   r => r.fulfill({ body: Buffer.from('this is not a safetensors file'), contentType: 'application/octet-stream' }));

  const state = () => page.evaluate(() => window.vaeStudio.state());
  const waitState = (predicate, arg) =>
    page.waitForFunction(([p, a]) => window.vaeStudio.ready && new Function('s', 'a', p)(window.vaeStudio.state(), a),
                         [predicate, arg], { timeout: 60000 });
  const waitFrames = async n => {
    const f = (await state()).frame;
    await waitState('return s.frame >= a', f + n);
  };
  const click = async (x, y) => {  // a press and a release a few frames apart, as ImGui sees a click
    await page.mouse.move(x, y);
    await waitFrames(2);
    await page.mouse.down();
    await waitFrames(2);
    await page.mouse.up();
    await waitFrames(2);
  };

  await page.goto(url);
  await waitState('return s.frame > 10 && s.model !== ""');
  let s = await state();
  check(s.model === 'mnist-z2' && s.arch.startsWith('784-'), 'default model loaded', `${s.model} ${s.arch}`);
  check(s.message === '', 'no message after start', s.message);
  check(await page.locator('#overlay').isHidden(), 'progress overlay gone');
  const size = await page.evaluate(() => {
    const cv = document.getElementById('canvas');
    return [cv.width, cv.height, cv.clientWidth, cv.clientHeight];
  });
  check(size[0] === VIEW.width * DPR && size[1] === VIEW.height * DPR && size[2] === VIEW.width,
        'canvas is the window times devicePixelRatio', size.join(' '));

  // A stroke with real mouse events, across the drawing canvas (its rect is in CSS pixels).
  const c = s.canvas;
  check(c.w > 100 && c.h > 100, 'drawing canvas laid out', JSON.stringify(c));
  const from = [c.x + 0.3 * c.w, c.y + 0.25 * c.h], to = [c.x + 0.7 * c.w, c.y + 0.75 * c.h];
  await page.mouse.move(VIEW.width - 20, VIEW.height - 20);
  await waitFrames(2);
  await page.mouse.move(from[0], from[1]);
  await waitFrames(2);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) {
    await page.mouse.move(from[0] + (to[0] - from[0]) * i / 12, from[1] + (to[1] - from[1]) * i / 12);
    await waitFrames(1);
  }
  await page.mouse.up();
  await waitFrames(3);
  s = await state();
  const p = s.last_point || [NaN, NaN];
  check(s.strokes === 1, 'one stroke recorded', `strokes ${s.strokes}`);
  check(Math.abs(p[0] - 0.7) < 0.02 && Math.abs(p[1] - 0.75) < 0.02, 'the stroke ends where the mouse did',
        `last point ${p.map(v => v.toFixed(3)).join(', ')}, expected 0.700, 0.750`);

  // The same with a finger (touch events through the page's pointer forwarding).
  const cdp = await context.newCDPSession(page);
  const touch = (type, x, y) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
  const tFrom = [c.x + 0.2 * c.w, c.y + 0.8 * c.h], tTo = [c.x + 0.8 * c.w, c.y + 0.2 * c.h];
  await touch('touchStart', tFrom[0], tFrom[1]);
  await waitFrames(1);
  for (let i = 1; i <= 8; i++) {
    await touch('touchMove', tFrom[0] + (tTo[0] - tFrom[0]) * i / 8, tFrom[1] + (tTo[1] - tFrom[1]) * i / 8);
    await waitFrames(1);
  }
  await touch('touchEnd');
  await waitFrames(3);
  s = await state();
  const q = s.last_point || [NaN, NaN];
  check(s.strokes === 2 && Math.abs(q[0] - 0.8) < 0.02 && Math.abs(q[1] - 0.2) < 0.02, 'a touch stroke is drawn too',
        `strokes ${s.strokes}, last point ${q.map(v => v.toFixed(3)).join(', ')}, expected 0.800, 0.200`);

  // What the model makes of the drawing, against a second implementation (web/tests/vae_reference.mjs, plain
  // JavaScript from the model file): the page's input and reconstruction come from its "Save reconstruction"
  // PNG (the input beside the reconstruction, 8x, grey), taken from Module.vaeStudioSave with a real click.
  await waitState('return !s.empty && s.log_px !== null');
  s = await state();
  // The "Save reconstruction" button, where the app says it drew it.
  const sb = s.widgets.save_reconstruction;
  check(sb && sb.w > 0, 'the "Save reconstruction" button is listed among the widgets', JSON.stringify(sb));
  const saved = await pageDriver(page).saveReconstruction();
  check(/reconstruction/.test(saved.name) && saved.width === 59 * 8 && saved.height === 30 * 8,
        '"Save reconstruction" gives the input beside its reconstruction', `${saved.name} ${saved.width}x${saved.height}`);
  const ref = new ReferenceVae(modelFile), x = saved.input.map(v => v / 255);
  const enc = ref.encode(x), kl = klGaussian(enc.mu, enc.sigma), nll = expectedNll(ref, x, enc.mu, enc.sigma);
  const ink = x.reduce((a, v) => a + v, 0);
  // The input is read back at 8 bits (each pixel within 1/510 of the page's), which moves the reference's code by
  // about 4e-4 with mnist-z2 (measured); Z_TOLERANCE allows 25 times that. The page computes in float32.
  const zErr = Math.max(...enc.mu.map((m, j) => Math.abs(m - s.z[j])), ...enc.sigma.map((v, j) => Math.abs(v - s.sigma[j]) / v));
  check(ink > 20 && s.z.length === enc.mu.length && zErr < Z_TOLERANCE, 'the code q(z|x) is what the model file gives',
        `page z ${s.z.slice(0, 2).map(v => v.toFixed(4)).join(', ')}, reference ${enc.mu.slice(0, 2).map(v => v.toFixed(4)).join(', ')}; ` +
        `largest difference ${zErr.toExponential(2)} (z, sigma relative), at most ${Z_TOLERANCE}`);
  const expected = ref.decode(enc.mu).map(v => Math.round(255 * v));
  const reconErr = Math.max(...expected.map((v, i) => Math.abs(v - saved.recon[i])));
  check(reconErr <= 2, 'the reconstruction is the decoder mean at z = mu', `largest difference ${reconErr} of 255, at most 2`);
  check(Math.abs(s.kl - kl) <= 1e-3 * kl + 1e-3, 'the KL term is the closed form of the reference code',
        `page ${s.kl?.toFixed(4)}, reference ${kl.toFixed(4)}`);
  // The page's reconstruction term averages kPosteriorSamples = 6 samples of z ~ q(z|x) (src/app/studio.hpp);
  // the reference's 2000-sample mean is within 4 standard errors of it unless the page computes something else.
  const recTol = 4 * nll.sd / Math.sqrt(6) + 0.5;
  check(Math.abs(s.rec - nll.mean) <= recTol, 'the reconstruction term is E_q[-log p(x|z)] of the reference',
        `page ${s.rec?.toFixed(2)}, reference ${nll.mean.toFixed(2)} (one sample's sd ${nll.sd.toFixed(2)}), at most ${recTol.toFixed(2)} apart`);
  check(Math.abs(s.elbo + nll.mean + kl) <= recTol + 1e-3 * kl + 1e-3, 'the ELBO is the reference\'s -(E_q[-log p(x|z)] + KL)',
        `page ${s.elbo?.toFixed(2)}, reference ${(-(nll.mean + kl)).toFixed(2)}`);
  check(typeof s.log_px === 'number', 'log p(x) is estimated once the stroke has ended', `log p(x) ${s.log_px?.toFixed(2)}, percentile ${s.percentile}`);
  check(s.grid.cells === s.grid.n * s.grid.n && s.grid.n >= 5, 'the latent grid is decoded', `${s.grid.n}x${s.grid.n}`);
  check(s.samples > 0, 'prior samples are decoded', `${s.samples}`);

  mkdirSync(out, { recursive: true });
  const shot = join(out, 'web-smoke.png');
  await page.screenshot({ path: shot });
  const png = execFileSync('/usr/bin/python3', [join(here, '../../tests/e2e/png_check.py'), shot, '--min-colours', '8',
                                       '--size', `${VIEW.width * DPR}x${VIEW.height * DPR}`], { encoding: 'utf8' });
  check(true, 'screenshot is not blank', png.trim());

  // Models on demand: a good one replaces the current model; a corrupt or missing one leaves it in place.
  if (fallbackModel) {
    await page.evaluate(() => window.vaeStudio.requestModel('e2e-random'));
    await waitState('return s.model === "e2e-random" && s.loading === ""');
    check(true, 'a model loads on demand');
  }
  const before = (await state()).model;
  await page.evaluate(() => window.vaeStudio.requestModel('e2e-corrupt'));
  await waitState('return s.loading === "" && s.message.includes("e2e-corrupt")');
  s = await state();
  check(s.model === before, 'a corrupt model is refused and the current one kept', s.message);
  check(await page.locator('#banner').isVisible(), 'the page shows the error',
        await page.locator('#banner').textContent());
  await page.evaluate(() => window.vaeStudio.requestModel('e2e-missing'));
  await waitState('return s.loading === "" && s.message.includes("e2e-missing")');
  s = await state();
  check(s.model === before && /404/.test(s.message), 'a missing model is reported and the current one kept', s.message);
  await waitFrames(5);
  await page.screenshot({ path: join(out, 'web-smoke-error.png') });

  // A model file of the user's: a PyTorch state dict (our tensors, no __metadata__, as
  // safetensors.torch.save_file writes it) opened with the Models panel's button and the browser's file picker;
  // then a foreign file dropped on the page. Neither is uploaded: the page reads it and hands it to the app.
  const stateDict = (() => {
    const bytes = readFileSync(modelFile);
    const n = Number(bytes.readBigUInt64LE(0));
    const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
    const data = bytes.subarray(8 + n), kept = {}, parts = [];
    let at = 0;
    for (const [name, t] of Object.entries(header)) {  // the model's own tensors: no metadata, no map.*, pca.*
      if (!/^(encoder|decoder)\./.test(name)) continue;
      const part = data.subarray(t.data_offsets[0], t.data_offsets[1]);
      kept[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [at, at + part.length] };
      parts.push(part);
      at += part.length;
    }
    const text = Buffer.from(JSON.stringify(kept));
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(text.length));
    return Buffer.concat([length, text, ...parts]);
  })();
  // The page's notice of the failed model lies over the foot of the window: dismissed with a click, as a person would.
  if (await page.locator('#banner').isVisible()) await page.locator('#banner').click();
  // The Models panel is at the foot of its column: scrolled into view with the mouse wheel, as a person would.
  let opener = (await state()).widgets.open_model_file;
  for (let i = 0; i < 30 && opener && opener.y + opener.h > VIEW.height; ++i) {
    await page.mouse.move(VIEW.width - 16, VIEW.height / 2);  // over the column's scrollbar, not the grid's zoom
    await page.mouse.wheel(0, 300);
    await waitFrames(3);
    opener = (await state()).widgets.open_model_file;
  }
  check(opener && opener.y >= 0 && opener.y + opener.h <= VIEW.height,
        'the Models panel offers "Open a model file...", scrolled to with the wheel', JSON.stringify(opener));
  const chooser = page.waitForEvent('filechooser', { timeout: 10000 });
  await click(opener.x + opener.w / 2, opener.y + opener.h / 2);
  await (await chooser).setFiles({ name: 'pt-state-dict.safetensors', mimeType: 'application/octet-stream', buffer: stateDict });
  await waitState('return s.model === "pt-state-dict.safetensors" || s.message.includes("pt-state-dict")');
  s = await state();
  check(s.model_metadata === false && s.arch === '784-512-256-[2]-256-512-784' && s.message === '',
        'a PyTorch state dict opened from the file picker loads, its architecture read from its tensors',
        `${s.model} ${s.arch} metadata ${s.model_metadata} ${s.message}`);
  check(s.z.length === 2 && s.z.every(Number.isFinite) && typeof s.elbo === 'number',
        'and the drawing is encoded with it', `z ${s.z.map(v => v.toFixed(3)).join(', ')}`);
  await waitFrames(3);
  await page.screenshot({ path: join(out, 'web-smoke-state-dict.png') });
  await page.evaluate(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['hello, not a model'], 'notes.txt'));
    window.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, cancelable: true }));
  });
  await waitState('return s.message.includes("notes.txt")');
  s = await state();
  check(s.model === 'pt-state-dict.safetensors' && /notes\.txt: header length/.test(s.message),
        'a foreign file dropped on the page is refused with a message and the model kept', s.message);

  // A burst: a circle of 61 points pressed, drawn and released by pointer events sent inside one task, so inside
  // one frame, as a slow phone or a heavy frame delivers a quick stroke. Every point is kept, the last where the
  // circle closes.
  s = await state();
  const strokesBefore = s.strokes;
  await page.evaluate(c => {
    const canvas = document.getElementById('canvas');
    const r = canvas.getBoundingClientRect();
    const at = k => ({ clientX: r.left + c.x + c.w * (0.5 + 0.3 * Math.cos(2 * Math.PI * k / 60)),
                       clientY: r.top + c.y + c.h * (0.5 + 0.3 * Math.sin(2 * Math.PI * k / 60)) });
    const send = (type, k, buttons) => canvas.dispatchEvent(new PointerEvent(type, {
      pointerId: 7, pointerType: 'pen', isPrimary: true, buttons, button: type === 'pointermove' ? -1 : 0,
      bubbles: true, cancelable: true, ...at(k) }));
    send('pointerdown', 0, 1);
    for (let k = 1; k <= 60; ++k) send('pointermove', k, 1);
    send('pointerup', 60, 0);
  }, s.canvas);
  await waitState('return s.strokes === a', strokesBefore + 1);
  await waitFrames(2);
  s = await state();
  const end = s.last_point;
  check(s.last_stroke_points === 61 && Math.abs(end[0] - 0.8) < 0.01 && Math.abs(end[1] - 0.5) < 0.01,
        'a burst of 61 pointer events inside one frame keeps every point',
        `${s.last_stroke_points} points, the last at ${end.map(v => v.toFixed(3)).join(', ')}, expected 0.800, 0.500`);

  // After a resize the canvas follows the window and a stroke still lands where the pointer goes.
  const RESIZED = { width: 1280, height: 800 };
  await page.setViewportSize(RESIZED);
  await waitFrames(5);
  const size2 = await page.evaluate(() => [document.getElementById('canvas').width, document.getElementById('canvas').height]);
  check(size2[0] === RESIZED.width * DPR && size2[1] === RESIZED.height * DPR, 'the canvas follows a resize', size2.join(' '));
  s = await state();
  const r = s.canvas;
  await page.mouse.move(r.x + 0.4 * r.w, r.y + 0.4 * r.h);
  await waitFrames(2);
  await page.mouse.down();
  for (let i = 1; i <= 6; i++) {
    await page.mouse.move(r.x + (0.4 + 0.2 * i / 6) * r.w, r.y + 0.4 * r.h);
    await waitFrames(1);
  }
  await page.mouse.up();
  await waitFrames(3);
  s = await state();
  const rp = s.last_point || [NaN, NaN];
  check(Math.abs(rp[0] - 0.6) < 0.02 && Math.abs(rp[1] - 0.4) < 0.02, 'strokes land right after the resize',
        `last point ${rp.map(v => v.toFixed(3)).join(', ')}, expected 0.600, 0.400`);
  await page.screenshot({ path: join(out, 'web-smoke-resized.png') });

  // Partial redraw (src/app/main.cpp): dragging the grid redraws only what changed, and what the window then
  // shows is, pixel for pixel, what a full redraw of the same frame shows.
  await page.evaluate(() => {
    window.vaeDrawn = [];
    Module.vaeStudioOnFrame = (appMs, frameMs, drawn) => window.vaeDrawn.push(drawn);
  });
  const g = s.widgets.grid;
  await page.mouse.move(g.x + 0.5 * g.w, g.y + 0.5 * g.h);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) {
    await page.mouse.move(g.x + (0.5 - 0.03 * i) * g.w, g.y + (0.5 + 0.02 * i) * g.h);
    await waitFrames(1);
  }
  await page.mouse.up();
  await page.mouse.move(VIEW.width - 5, 5);  // off the panels: nothing hovered
  await waitState('return !s.grid.pending');
  await waitFrames(5);
  const drawn = await page.evaluate(() => window.vaeDrawn);
  const partial = drawn.filter(d => d > 0 && d < 0.5).length, none = drawn.filter(d => d === 0).length;
  check(partial > 0, 'frames that change only the grid redraw part of the window',
        `${drawn.length} frames: ${partial} redrew under half of it, ${none} nothing, ${drawn.length - partial - none} more`);
  const afterPartial = await page.screenshot();
  await page.evaluate(() => Module._vae_studio_redraw_all());
  await waitFrames(3);
  const afterFull = await page.screenshot();
  check(afterPartial.equals(afterFull), 'the partial redraws leave the window as a full redraw draws it',
        afterPartial.equals(afterFull) ? '' : 'screenshots differ');
  await page.evaluate(() => { Module.vaeStudioOnFrame = null; });

  // The browser logs the 404 asked for above as a console error; anything else is a real error.
  const unexpected = consoleErrors.filter(e => !(e.url.includes('e2e-missing') && /404/.test(e.text)));
  check(unexpected.length === 0, 'no console errors', unexpected.map(e => e.text).join(' | '));
} catch (e) {
  check(false, 'smoke test ran to the end', e.message.split('\n')[0]);
} finally {
  await context.close();
  server.close();
  rmSync(profile, { recursive: true, force: true });
}
process.exit(summary());
