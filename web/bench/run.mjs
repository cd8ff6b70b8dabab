// Runs the inference benchmark page (bench.html) in headless Chromium and writes its table: our engine's
// WASM SIMD kernel against TensorFlow.js's wasm backend, same weights, same inputs, same browser run.
//   node web/bench/run.mjs [--site build-web/bench] [--reps 15] [--runs 3] [--out FILE.md] [--json FILE.json]
// --runs: page loads; the table gives the median over loads of each load's median, and the range of those.
import { writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { launchChromium } from '../chromium.mjs';
import { startServer } from '../serve.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
};
const site = resolve(arg('site', join(here, '../../build-web/bench')));
const reps = Number(arg('reps', 15)), runs = Number(arg('runs', 3));
const outMd = arg('out', null), outJson = arg('json', null);
const median = v => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

const server = await startServer(site, 0);
const url = `http://127.0.0.1:${server.address().port}/bench.html?reps=${reps}`;
const { context, close } = await launchChromium({ viewport: { width: 1100, height: 700 } });
const loads = [];
try {
  for (let r = 0; r < runs; r++) {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', e => errors.push(e.message));
    page.on('console', m => { if (m.type() === 'error') errors.push(`${m.text()} ${m.location().url}`); });
    await page.goto(url);
    await page.waitForFunction(() => window.benchResult, null, { timeout: 600000, polling: 500 });
    const result = await page.evaluate(() => window.benchResult);
    await page.close();
    if (!result.ok) throw new Error(`the benchmark page failed: ${result.error}`);
    if (errors.length) throw new Error(`the benchmark page logged errors: ${errors.join(' | ')}`);
    loads.push(result);
    console.error(`run ${r + 1}/${runs}: ${result.results.map(x => `${x.name} ${x.speedup.toFixed(2)}x`).join(', ')}`);
  }
} finally {
  await close();
  server.close();
}

// Across loads: the median of each load's median, and the smallest and largest of those medians.
const env = loads[0].env;
const rows = loads[0].results.map((w, i) => {
  const of = key => loads.map(l => l.results[i][key]);
  const ms = who => loads.map(l => l.results[i][who].ms);
  const stat = v => ({ med: median(v), min: Math.min(...v), max: Math.max(...v) });
  return { name: w.name, flops: w.flops, ours: stat(ms('ours')), tfjs: stat(ms('tfjs')),
           speedup: stat(of('speedup')), maxDiff: Math.max(...of('maxDiff')), same: of('same').every(Boolean) };
});
const f = x => (x < 1 ? x.toFixed(4) : x.toFixed(2));
const gf = (flops, ms) => (flops / (ms * 1e6)).toFixed(1);
const ceiling = Math.max(...loads.map(l => l.env.peakGflops));
const lines = [
  `Headless Chromium (${env.userAgent.match(/Chrome\/[\d.]+/)?.[0] || env.userAgent}), ${runs} page loads x ${reps} ` +
  `timed blocks per runtime; ours: ${env.ours.isa}, 1 thread; TensorFlow.js ${env.tfjs.version} ${env.tfjs.backend}, ` +
  `SIMD ${env.tfjs.simd}, ${env.tfjs.threads} thread(s). Browser ceiling (multiply-add probe, 128-bit WASM SIMD): ` +
  `${ceiling.toFixed(1)} GFLOP/s. Times are ms per call, Float32Array in to Float32Array out: median [min .. max] ` +
  `over the loads' medians.`,
  '',
  '| workload | ours ms | ours GFLOP/s (% of ceiling) | tfjs-wasm ms | tfjs GFLOP/s | tfjs / ours | max abs diff |',
  '|---|---|---|---|---|---|---|',
  ...rows.map(r => `| ${r.name} | ${f(r.ours.med)} [${f(r.ours.min)} .. ${f(r.ours.max)}] | ` +
    `${gf(r.flops, r.ours.med)} (${Math.round(100 * r.flops / (r.ours.med * 1e6) / ceiling)}%) | ` +
    `${f(r.tfjs.med)} [${f(r.tfjs.min)} .. ${f(r.tfjs.max)}] | ${gf(r.flops, r.tfjs.med)} | ` +
    `**${r.speedup.med.toFixed(2)}x** [${r.speedup.min.toFixed(2)} .. ${r.speedup.max.toFixed(2)}] | ` +
    `${r.maxDiff.toExponential(1)}${r.same ? '' : ' (DIFFERENT)'} |`),
];
const table = lines.join('\n');
console.log(table);
if (outMd) writeFileSync(outMd, table + '\n');
if (outJson) writeFileSync(outJson, JSON.stringify({ env, ceiling, rows, loads }, null, 1));
if (!rows.every(r => r.same)) {
  console.error('the two runtimes disagree on some outputs (max abs diff >= 1e-4)');
  process.exit(1);
}
