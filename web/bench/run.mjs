// Runs the inference benchmark page (bench.html) in headless Chromium and writes its table: our engine's WASM SIMD
// kernels (float and int8, one thread) against TensorFlow.js's and onnxruntime-web's wasm backends with 1 and 2
// threads, same weights, same inputs, same browser run.
//   node web/bench/run.mjs [--site build-web/bench] [--reps 15] [--runs 3] [--out FILE.md] [--json FILE.json]
//   node web/bench/run.mjs --serve [--site build-web/bench] [--port 8081]     the page, to open in a browser
// --runs: page loads; the table gives the median over loads of each load's median, and the range of those.
// The server sends the cross-origin-isolation headers (COOP same-origin, COEP require-corp) that wasm threads
// (SharedArrayBuffer) need; only this benchmark's server does: the product page stays single-threaded.
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

// web/serve.mjs's server, with the isolation headers set on every response before its handler writes them.
async function isolatedServer(port) {
  const server = await startServer(site, port);
  server.prependListener('request', (req, res) => {
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Embedder-Policy', 'require-corp');
  });
  return server;
}

if (process.argv.includes('--serve')) {
  const server = await isolatedServer(Number(arg('port', 8081)));
  console.log(`VAE Studio benchmark: http://localhost:${server.address().port}/bench.html  (serving ${site}; Ctrl-C stops)`);
} else {
  await runBenchmark();
}

async function runBenchmark() {
  const server = await isolatedServer(0);
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
      console.error(`run ${r + 1}/${runs}: ${result.results.map(x => `${x.name}: tfjs-1t ${x.tfjsPerInt8.toFixed(2)}x, ` +
                    `${x.fastest2} ${x.fastest2PerInt8.toFixed(2)}x`).join('; ')}`);
    }
  } finally {
    await close();
    server.close();
  }
  report(loads);
}

// Across loads: the median of each load's median (and of each load's ratio), and the smallest and largest.
function report(loads) {
  const env = loads[0].env;
  const stat = v => ({ med: median(v), min: Math.min(...v), max: Math.max(...v) });
  const rows = loads[0].results.map((w, i) => {
    const runtimes = Object.fromEntries(env.runtimes.map(({ key }) => {
      const of = k => loads.map(l => l.results[i].runtimes[key][k]);
      return [key, { ms: stat(of('ms')), perInt8: stat(of('perInt8')), maxDiff: Math.max(...of('maxDiff')),
                     bound: of('bound')[0], same: of('same').every(Boolean) }];
    }));
    const of = k => loads.map(l => l.results[i][k]);
    return { name: w.name, model: w.model, weights: w.weights, Z: w.Z, B: w.B, flops: w.flops,
             int8Layers: w.int8Layers, runtimes, tfjsPerInt8: stat(of('tfjsPerInt8')),
             fastest2PerInt8: stat(of('fastest2PerInt8')), fastest2: of('fastest2') };
  });
  const ceiling = { float: Math.max(...loads.map(l => l.env.peakGflops)), int8: Math.max(...loads.map(l => l.env.peakInt8Gops)) };
  const label = Object.fromEntries(env.runtimes.map(r => [r.key, r.label]));
  const f = x => (x < 1 ? x.toFixed(4) : x.toFixed(2));
  const range = s => `${f(s.med)} [${f(s.min)} .. ${f(s.max)}]`;
  const ratio = s => `**${s.med.toFixed(2)}x** [${s.min.toFixed(2)} .. ${s.max.toFixed(2)}]`;
  const gf = (flops, ms) => flops / (ms * 1e6);
  const fr = env.frames;
  // Threads as each runtime reports them after the runs (tfjs getThreadsCount(), ORT env.wasm.numThreads), and
  // the web workers each frame started (tfjs's threaded binary starts a pool of 8 whatever the count).
  const threads = (a, b) => `${fr[a].threads} and ${fr[b].threads} threads (asked ${fr[a].threadsAsked} and ` +
    `${fr[b].threadsAsked}; ${fr[a].workers} and ${fr[b].workers} web workers started` +
    (fr[b].shownCores && fr[b].shownCores !== fr[b].cores
      ? `; the 2-thread frame shows tfjs ${fr[b].shownCores} logical cores, not ${fr[b].cores}, as tfjs caps its ` +
        'pool at half of them' : '') + ')';
  const lines = [
    `Headless Chromium (${env.userAgent.match(/Chrome\/[\d.]+/)?.[0] || env.userAgent}), crossOriginIsolated ` +
    `${env.crossOriginIsolated}, ${env.hardwareConcurrency} logical cores, ${loads.length} page load(s) x ${env.reps} ` +
    `timed blocks per runtime, the runtimes' order reversed every other block. Ours: float kernel ${env.ours.isa}, ` +
    `int8 kernel ${env.ours.int8Isa}, 1 thread. TensorFlow.js ${fr.tf1.version} ${fr.tf1.backend} (${fr.tf1.binary}; ` +
    `${fr.tf2.binary}), ${threads('tf1', 'tf2')}. onnxruntime-web ${fr.ort1.version} wasm EP (${fr.ort1.binary}), ` +
    `${threads('ort1', 'ort2')}. Browser ceilings, one thread, 128-bit WASM SIMD: float multiply-add probe ` +
    `${ceiling.float.toFixed(1)} GFLOP/s, int8 16-bit dot-product probe ${ceiling.int8.toFixed(1)} GOP/s. Times are ms ` +
    `per call, Float32Array in to Float32Array out: median [min .. max] over the loads' medians; ratios are ` +
    `runtime ms / ours-int8 ms (> 1: ours int8 is faster), per load, then the same median [min .. max]. Max abs ` +
    `diff: Bernoulli means against ours float (float runtimes < ${env.floatBound}, int8 < ${env.int8Bound}).`,
    '',
    '| workload | runtime | ms | GFLOP/s (share of our ceiling) | runtime / ours int8 | max abs diff |',
    '|---|---|---|---|---|---|',
    ...rows.flatMap(r => env.runtimes.map(({ key }) => {
      const x = r.runtimes[key], g = gf(r.flops, x.ms.med);
      const share = key === 'oursF' ? ` (${Math.round(100 * g / ceiling.float)}% of float)`
        : key === 'oursQ' ? ` (${Math.round(100 * g / ceiling.int8)}% of int8)` : '';
      return `| ${r.name} | ${label[key]} | ${range(x.ms)} | ${g.toFixed(1)}${share} | ` +
             `${key === 'oursQ' ? '1' : ratio(x.perInt8)} | ${key === 'oursF' ? '-' : x.maxDiff.toExponential(1)}` +
             `${x.bound === null ? ' (not checked)' : x.same ? '' : ' (DIFFERENT)'} |`;
    })),
    '',
    '| workload | model | tfjs-1t / ours int8 | fastest 2-thread / ours int8 | ours float / ours int8 | ' +
    'int8 layers | int8 vs float max abs diff |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(r => `| ${r.name} | ${r.model} (${r.weights}) | ${ratio(r.tfjsPerInt8)} | ` +
                     `${ratio(r.fastest2PerInt8)} (${[...new Set(r.fastest2)].map(k => label[k]).join(' / ')}) | ` +
                     `${ratio(r.runtimes.oursF.perInt8)} | ${r.int8Layers} | ${r.runtimes.oursQ.maxDiff.toExponential(1)}` +
                     `${r.runtimes.oursQ.bound === null ? ' (not checked)' : ''} |`),
  ];
  const table = lines.join('\n');
  console.log(table);
  if (outMd) writeFileSync(outMd, table + '\n');
  if (outJson) writeFileSync(outJson, JSON.stringify({ env, ceiling, rows, loads }, null, 1));
  const bad = rows.flatMap(r => env.runtimes.filter(({ key }) => !r.runtimes[key].same)
    .map(({ key }) => `${r.name}: ${label[key]} max abs diff ${r.runtimes[key].maxDiff.toExponential(1)} >= ${r.runtimes[key].bound}`));
  const unthreaded = ['tf1', 'tf2', 'ort1', 'ort2'].filter(k => fr[k].threads !== fr[k].threadsAsked).map(k => `${label[k]} runs ${fr[k].threads}`);
  if (!env.crossOriginIsolated) bad.push('the page was not cross-origin isolated');
  if (bad.length || unthreaded.length) {
    console.error(`the runtimes disagree or did not run as asked:\n  ${[...bad, ...unthreaded].join('\n  ')}`);
    process.exit(1);
  }
}
