// The label-conditioned model in the page (the Style panel), in Debian's headless Chromium with real mouse input:
// mnist-cvae loads on demand; a 7 drawn with the mouse is read by the classifier as a 7, with ten probabilities
// that sum to one, and drawn as all ten digits; a click on a class bar reads the style as that digit; a digit and
// a cell of the style plane go to the morph's two slots and to the canvas; the panels that need a plain VAE say
// so, and their button brings one back with the drawing kept. Then the same on a phone with a finger. No console
// errors. Screenshots go to --out.
//   node web/tests/style.mjs --site build-web/site [--out DIR]
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
const LAPTOP = { width: 1440, height: 1000 };
const PHONE = { width: 390, height: 844 };
const SEVEN = (() => {  // along the top, then down to the left; one frame per point
  const corners = [[0.3, 0.25], [0.72, 0.25], [0.45, 0.82]], pts = [corners[0]];
  for (let k = 1; k < corners.length; k++)
    for (let i = 1; i <= 8; i++) pts.push(corners[k - 1].map((v, d) => v + (corners[k][d] - v) * i / 8));
  return pts;
})();

const { check, summary } = checks();
const started = Date.now();
const server = await startServer(site, 0);
const url = `http://127.0.0.1:${server.address().port}/`;
mkdirSync(out, { recursive: true });
const errors = [];
const watch = page => {
  page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', e => errors.push(`uncaught: ${e.message}`));
};

// ---- a laptop with a mouse ----
let browser = await launchChromium({ viewport: LAPTOP, deviceScaleFactor: 1 });
try {
  const page = await browser.context.newPage();
  watch(page);
  const { state, waitState, click, drag, widget, scrollIntoView } = pageDriver(page);
  await page.goto(url);
  await waitState('return s.frame > 5 && s.model === "mnist-z2" && s.loading === ""');
  let s = await state();
  check(s.style === null && s.unavailable.join() === 'Style' && !!s.widgets.need_style,
        'with a plain model the Style panel says what it needs, with a button', JSON.stringify(s.unavailable));
  await click('need_style');
  await waitState('return s.model === "mnist-cvae" && s.loading === ""', null, 120000);
  s = await state();
  check(s.conditional && s.arch.includes('-[2]-'), 'its button loads mnist-cvae on demand', `${s.model} ${s.arch}`);
  check(s.message === '', 'no message after loading it', s.message);
  check(['Code', 'Map', 'Repair', 'Grid', 'Samples', 'Compare'].every(n => s.unavailable.includes(n)) &&
        !!s.widgets.need_grid && !s.widgets.grid,
        'the panels that need a plain VAE say so in one line', s.unavailable.join(', '));

  await drag(s.canvas, SEVEN);
  await waitState('return s.style && s.style.images === 10 && s.style.probs.length === 10');
  s = await state();
  const st = s.style, sum = st.probs.reduce((t, q) => t + q, 0);
  check(Math.abs(sum - 1) < 1e-4 && st.probs.every(q => q >= 0), 'ten class probabilities that sum to one',
        st.probs.map(q => q.toFixed(3)).join(' '));
  check(st.predicted === 7 && st.label === 7 && st.picked === -1, 'the 7 is read as a 7, and its style with that label',
        `q(7|x) = ${st.probs[7].toFixed(3)}, predicted ${st.predicted}`);
  check(st.grid.cells === st.grid.n * st.grid.n && st.grid.label === 7 && st.map_points === 10000,
        'the style plane of a 7 and the test set\'s style map are drawn', `${st.grid.n}x${st.grid.n}, ${st.map_points} points`);
  // The ten digits are not blank: the sheet's pixels in a screenshot.
  const sheet = await widget('style_digits');
  const ink = await page.evaluate(async ({ png }) => {
    const bmp = await createImageBitmap(new Blob([new Uint8Array(png)], { type: 'image/png' }));
    const cv = new OffscreenCanvas(bmp.width, bmp.height), g = cv.getContext('2d');
    g.drawImage(bmp, 0, 0);
    const d = g.getImageData(0, 0, bmp.width, bmp.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) n += d[i] > 128;
    return n / (d.length / 4);
  }, { png: Array.from(await page.screenshot({ clip: { x: sheet.x, y: sheet.y, width: sheet.w, height: sheet.h } })) });
  check(ink > 0.05 && ink < 0.6, 'the ten digits are drawn', `${(100 * ink).toFixed(1)} % ink`);

  await click('style_bar_3');
  await waitState('return s.style.picked === 3 && s.style.label === 3');
  check(true, 'a click on the bar of 3 reads the style as a 3');
  await click('style_digits', 0.9);  // the middle of the sheet's right edge: the last of the second row, the 9
  s = await state();
  check(s.style.pick.kind === 'digit' && s.style.pick.index === 9, 'a click picks the 9', JSON.stringify(s.style.pick));
  await click('style_to_a');
  await click('style_grid', 0.05);
  await click('style_to_b');
  await waitState('return s.morph === 48');
  check(true, 'a digit and a cell of the style plane fill the morph\'s two slots');
  const strokes = (await state()).strokes;
  await click('style_to_canvas');
  await waitState('return s.strokes === a + 1', strokes);
  check(true, 'the picked cell goes to the canvas');
  await page.mouse.move(LAPTOP.width - 5, 5);
  await page.screenshot({ path: join(out, 'web-style-laptop.png') });
  await scrollIntoView('style_map');
  await page.mouse.move(LAPTOP.width - 5, 5);
  await page.screenshot({ path: join(out, 'web-style-map.png') });

  await click('need_grid');
  await waitState('return s.model === "mnist-z2" && s.loading === "" && !s.empty && s.grid.cells > 0 && !s.grid.pending');
  s = await state();
  check(!s.conditional && s.unavailable.join() === 'Style' && s.strokes === strokes + 1,
        '"Use mnist-z2" brings back a plain VAE, with the drawing kept', `${s.model}, ${s.strokes} strokes`);
} catch (e) {
  check(false, 'the laptop part ran to the end', e.message.split('\n')[0]);
} finally {
  await browser.close();
}

// ---- a phone with a finger ----
browser = await launchChromium({ viewport: PHONE, deviceScaleFactor: 3, hasTouch: true, isMobile: true });
try {
  const page = await browser.context.newPage();
  watch(page);
  const { state, waitState, tap, tapAt, swipe, waitFrames } = pageDriver(page);
  await page.goto(`${url}?model=mnist-cvae`);
  await waitState('return s.frame > 5 && s.model === "mnist-cvae" && s.loading === ""', null, 120000);
  let s = await state();
  check(s.layout.columns === 1 && !!s.widgets.section_style, 'on a phone the section bar has Style', `${s.layout.columns} column`);
  // A 1 with a finger: a vertical stroke down the canvas's middle.
  const c = s.canvas;
  const at = ([u, v]) => [c.x + u * c.w, c.y + v * c.h];
  await swipe(at([0.52, 0.2]), at([0.48, 0.82]), 10);
  await waitState('return s.style && s.style.images === 10');
  s = await state();
  check(s.style.predicted === 1, 'a 1 drawn with a finger is read as a 1', `q(1|x) = ${s.style.probs[1].toFixed(3)}`);
  await tap('section_style');
  await waitFrames(3);
  s = await state();
  const bar = s.widgets.style_bar_5;
  check(bar && bar.visible, 'the section bar jumps to the Style panel', JSON.stringify(bar));
  if (bar) {
    await tapAt(bar.x + bar.w / 2, bar.y + bar.h / 2);
    await waitState('return s.style.picked === 5');
    check(true, 'a tap on the bar of 5 reads the style as a 5');
  }
  await page.screenshot({ path: join(out, 'web-style-phone.png') });
} catch (e) {
  check(false, 'the phone part ran to the end', e.message.split('\n')[0]);
} finally {
  await browser.close();
  server.close();
}
check(errors.length === 0, 'no console errors', errors.join(' | '));
process.exit(summary(` in ${((Date.now() - started) / 1000).toFixed(1)} s`));
