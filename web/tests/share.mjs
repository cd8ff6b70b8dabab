// Share links in the page, in Debian's headless Chromium with real mouse input: a drawing made on mnist-z32 is
// shared with the canvas panel's "Copy link", and the link, opened in a fresh tab, brings back the same strokes,
// the same model and the same code, bit for bit; the link holds the drawing only after '#', which the server
// never sees; a damaged, a foreign and an over-long fragment each open the page as usual with a one-line notice
// and an empty canvas. Screenshots go to --out.
//   node web/tests/share.mjs --site build-web/site [--out DIR]
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
const VIEW = { width: 1280, height: 800 };

const { check, summary } = checks();

const server = await startServer(site, 0);
const url = `http://127.0.0.1:${server.address().port}/`;
const requested = [];  // every path the server was asked for: a fragment must never be among them
server.on('request', req => requested.push(req.url));
const { context, close } = await launchChromium({ viewport: VIEW, deviceScaleFactor: 1 });
try {
  mkdirSync(out, { recursive: true });
  const errors = [];
  const open = async link => {
    const page = await context.newPage();
    page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', e => errors.push(`uncaught: ${e.message}`));
    await page.goto(link);
    return page;
  };

  // 1. Draw on mnist-z32 (not the default model, so the link must carry it) and share.
  const page = await open(`${url}?model=mnist-z32`);
  const a = pageDriver(page);
  await a.waitState('return s.frame > 5 && s.model === "mnist-z32" && s.loading === ""');
  let s = await a.state();
  await a.drag(s.canvas, [[0.3, 0.2], [0.7, 0.2], [0.45, 0.8]]);
  await a.drag(s.canvas, [[0.35, 0.5], [0.6, 0.5]]);
  await a.waitState('return s.strokes === 2 && !s.empty && s.log_px !== null');
  const drawn = await a.state();
  await a.click('copy_link');
  await page.waitForFunction(() => window.vaeStudio.lastShareLink);
  const link = await page.evaluate(() => window.vaeStudio.lastShareLink);
  s = await a.state();
  check(link.startsWith(`${url}?model=mnist-z32#draw=`) && page.url() === link,
        'Copy link puts the link in the address bar, the drawing after "#draw="', `${link.length} characters`);
  check(/^link copied/.test(s.message), 'the studio says the link was made', s.message);

  // 2. The link in a fresh tab, without the ?model= of the first: the same model, strokes and code.
  const bare = link.replace('?model=mnist-z32', '');
  const page2 = await open(bare);
  const b = pageDriver(page2);
  await b.waitState('return s.frame > 5 && s.model !== "" && s.loading === "" && s.strokes === 2 && s.log_px !== null');
  const back = await b.state();
  check(back.model === 'mnist-z32', 'the link opens the model it names', back.model);
  check(back.strokes === drawn.strokes && JSON.stringify(back.last_point) === JSON.stringify(drawn.last_point) &&
        back.last_stroke_points === drawn.last_stroke_points, 'the same strokes',
        `${back.strokes} strokes, the last of ${back.last_stroke_points} points ending at ${back.last_point}`);
  check(JSON.stringify(back.z) === JSON.stringify(drawn.z) && JSON.stringify(back.sigma) === JSON.stringify(drawn.sigma) &&
        back.elbo === drawn.elbo, 'the same code, sigma and ELBO, bit for bit',
        `z[0..1] ${back.z.slice(0, 2).join(', ')}; ELBO ${back.elbo}`);
  check(back.message === '', 'no notice for a good link', back.message);
  check(!requested.some(r => r.includes('draw=') || r.includes('#')), 'the drawing never reached the server',
        `${requested.length} requests`);
  await page2.screenshot({ path: join(out, 'web-share-opened.png') });
  await page2.close();

  // 3. Links that are not a drawing: each opens the page as usual, with a notice and an empty canvas.
  const damaged = bare.slice(0, bare.indexOf('#draw=') + 6) + 'eyJ2IjoxLCJtb2RlbCI6Im1uaXN0LXoy';  // cut short
  for (const [name, fragment, why] of [
    ['a damaged link', damaged.slice(damaged.indexOf('#')), /could not be read/],
    ['a foreign fragment', '#section-2', /is not a VAE Studio drawing/],
    ['a fragment that is not base64url', '#draw=%%%', /damaged \(not base64url\)/],
  ]) {
    const p = await open(`${url}${fragment}`);
    const d = pageDriver(p);
    await d.waitState('return s.frame > 5 && s.model !== "" && s.loading === "" && s.message !== ""');
    s = await d.state();
    const banner = await p.locator('#banner').textContent();
    check(s.model === 'mnist-z2' && s.strokes === 0 && s.empty && why.test(s.message) &&
          /the page opened as usual/.test(s.message) && !s.message.includes('\n') && banner.length > 0,
          `${name} opens the default page with a one-line notice and an empty canvas`, s.message);
    await p.close();
  }
  check(errors.length === 0, 'no console errors', errors.join(' | '));
} catch (e) {
  check(false, 'the share test ran to the end', e.message.split('\n')[0]);
} finally {
  await close();
  server.close();
}
process.exit(summary());
