// The benchmark page's logic (see bench.html): five workloads, each a call from a Float32Array in to a
// Float32Array out, timed in alternating blocks for six runtimes on the same weights and inputs: our engine
// (vae-bench.wasm, the studio's kernels) with its float kernel and with its int8 kernel, one thread each; and the
// runtimes a user would pick instead, each in a frame of its own (runtime.html): TensorFlow.js's wasm backend
// and onnxruntime-web's wasm backend, with 1 and with 2 threads. Threads need cross-origin isolation, which
// run.mjs's server gives this page (the product page stays single-threaded). Results: the table on the page and
// window.benchResult (read by run.mjs).
const q = new URLSearchParams(location.search);
const REPS = Number(q.get('reps')) || 15;          // timed blocks per runtime and workload
const BLOCK_MS = Number(q.get('blockMs')) || 40;   // a block repeats whole calls for about this long
const D = 784, H1 = 512, H2 = 256;
// Agreement with our float kernel, the largest |difference| of the Bernoulli means: the other float runtimes
// differ only by summation order; the int8 kernel by its rounding of weights and inputs (~1e-2).
const FLOAT_BOUND = 1e-4, INT8_BOUND = 0.05;

const RUNTIMES = [
  { key: 'oursF', label: 'ours, float kernel, 1 thread' },
  { key: 'oursQ', label: 'ours, int8 kernel, 1 thread', int8: true },
  { key: 'tf1', label: 'tfjs-wasm, 1 thread', lib: 'tfjs', threads: 1 },
  { key: 'tf2', label: 'tfjs-wasm, 2 threads', lib: 'tfjs', threads: 2 },
  { key: 'ort1', label: 'ORT-web wasm, 1 thread', lib: 'ort', threads: 1 },
  { key: 'ort2', label: 'ORT-web wasm, 2 threads', lib: 'ort', threads: 2 },
];

// Models (models/models.json, written by tools/bench/onnx_models.py at build time): bench-z2 and bench-z16 with
// random weights, and the shipped mnist-z2 (its int8 file when the site has it) on the studio's latent grid.
function workloads(manifest) {
  const list = [
    { name: 'DEC16, batch 1', model: 'bench-z16', B: 1, encode: false },
    { name: 'DEC2, batch 400 (20x20 grid)', model: 'bench-z2', B: 400, encode: false },
    { name: 'ENC+DEC16, batch 1 (reconstruct)', model: 'bench-z16', B: 1, encode: true },
    { name: 'DEC16, batch 900 (30x30 grid)', model: 'bench-z16', B: 900, encode: false },
  ];
  // Without the int8 file, our int8 kernel rounds the F16 weights itself, plainly per row (not `vae quantize`'s
  // calibrated rounding): on the trained decoder that moves some pixels by far more than the int8 bound, so that
  // row's int8 difference is shown but not checked.
  const shipped = ['mnist-z2-int8', 'mnist-z2'].find(m => manifest.models[m]);
  if (shipped)
    list.push({ name: `${shipped} decoder${manifest.models[shipped].quantized ? '' : ' (int8: quantized on load)'}, ` +
                      `the studio's 20x20 grid`,
                model: shipped, B: manifest.grid.n ** 2, encode: false, grid: true,
                int8Unchecked: !manifest.models[shipped].quantized });
  for (const w of list) w.Z = manifest.models[w.model].Z;
  return list;
}
const decodeFlops = Z => 2 * (Z * H2 + H2 * H1 + H1 * D);
const encodeFlops = Z => 2 * (D * H1 + H1 * H2 + H2 * 2 * Z);

const status = text => { document.getElementById('status').textContent = text; };
const median = v => { const s = [...v].sort((a, b) => a - b); const n = s.length; return n % 2 ? s[(n - 1) / 2] : (s[n / 2 - 1] + s[n / 2]) / 2; };

// mulberry32: a small seeded generator for the inputs, so every run times the same data.
function random(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function fetchBytes(url) {
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status}`);
  return new Uint8Array(await r.arrayBuffer());
}

// Our engine on a model file's bytes (bench_load), with the float kernel or the int8 kernel (bench_set_int8: the
// layers `vae quantize` makes int8; a float file is quantized on load, a quantized file runs as stored).
function oursLoad(M, bytes, int8) {
  const ptr = M._malloc(bytes.length);
  M.HEAPU8.set(bytes, ptr);
  const h = M._bench_load(ptr, bytes.length);
  M._free(ptr);
  const error = M.UTF8ToString(M._bench_error(h));
  if (error) {
    M._bench_free(h);
    throw new Error(`our engine could not load the model: ${error}`);
  }
  return { h, int8Layers: M._bench_set_int8(h, int8 ? 1 : 0) };
}

// A call copies the input into wasm memory and the output out of it.
function oursModel(M, h, w) {
  const inDim = w.encode ? D : w.Z;
  const inPtr = M._malloc(4 * inDim * w.B), outPtr = M._malloc(4 * D * w.B);
  const run = w.encode ? M._bench_reconstruct : M._bench_decode;
  // The output goes into the caller's Float32Array, reused across calls as the studio reuses its buffers.
  // (A fresh 1.25 MB array per call costs ~4 ms in Chromium, more than the copy: measured for DEC2 batch 400.)
  const out = new Float32Array(D * w.B);
  const call = input => {
    M.HEAPF32.set(input, inPtr >> 2);
    run(h, inPtr, w.B, outPtr);
    out.set(M.HEAPF32.subarray(outPtr >> 2, (outPtr >> 2) + D * w.B));
    return out;
  };
  const free = () => { M._free(inPtr); M._free(outPtr); M._bench_free(h); };
  return { call, free };
}

// The float weights our engine runs (a quantized file's dequantized), name -> { data, rows, cols }, for tfjs.
function oursWeights(M, h) {
  const layout = JSON.parse(M.UTF8ToString(M._bench_layout(h)));
  const base = M._bench_params(h) >> 2;
  return Object.fromEntries(layout.map(t => [t.name, {
    rows: t.rows, cols: t.cols, data: M.HEAPF32.slice(base + t.offset, base + t.offset + t.rows * (t.cols || 1)) }]));
}

// A frame per other runtime (runtime.html); resolves to its window.runtime.
function startFrame(rt) {
  const frame = document.createElement('iframe');
  frame.src = `runtime.html?lib=${rt.lib}&threads=${rt.threads}`;
  frame.title = rt.label;
  document.getElementById('frames').append(frame);
  return new Promise((ok, fail) => {
    frame.onload = () => frame.contentWindow.runtimeReady.then(ok, e => fail(new Error(`${rt.label}: ${e.message || e}`)));
    frame.onerror = () => fail(new Error(`${rt.label}: the frame did not load`));
  });
}

// Whole calls per block so that a block lasts about BLOCK_MS (performance.now() is coarse in browsers). An
// async runtime (ORT's session.run) is awaited call by call, as an application would.
async function callsPerBlock(m, input) {
  for (let i = 0; i < 3; i++) await m.call(input);  // warm-up: first-call compilation, allocations
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < BLOCK_MS) { await m.call(input); n++; }
  return Math.max(1, n);
}

async function timeBlock(m, input, calls) {
  const t0 = performance.now();
  if (m.async) for (let i = 0; i < calls; i++) await m.call(input);
  else for (let i = 0; i < calls; i++) m.call(input);
  return (performance.now() - t0) / calls;
}

function summary(ms, flops) {
  const med = median(ms);
  return { ms: med, min: Math.min(...ms), max: Math.max(...ms), gflops: flops / (med * 1e6) };
}

// This browser's arithmetic ceilings for 128-bit WASM SIMD, one thread: a kernel's probe, best of 5. Float: the
// multiply-add probe; int8: the 16-bit pairwise dot-product probe (i32x4.dot_i16x8_s), a multiply-add counted 2.
function peakGops(probe) {
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const ops = probe(2000000);
    best = Math.max(best, ops / ((performance.now() - t0) * 1e6));
  }
  return best;
}

async function timeWorkload(M, frames, manifest, w, bytes) {
  const flops = w.B * (decodeFlops(w.Z) + (w.encode ? encodeFlops(w.Z) : 0));
  const entry = manifest.models[w.model];
  let input;
  if (w.grid) {
    input = new Float32Array(manifest.grid.codes);
  } else {
    const next = random(1234 + w.Z + w.B);
    input = new Float32Array((w.encode ? D : w.Z) * w.B).map(() => (w.encode ? next() : 4 * next() - 2));
  }
  const float = oursLoad(M, bytes, false), quant = oursLoad(M, bytes, true);
  const weights = oursWeights(M, float.h);
  const models = {};
  try {
    models.oursF = oursModel(M, float.h, w);
    models.oursQ = oursModel(M, quant.h, w);
    for (const rt of RUNTIMES.filter(r => r.lib)) {
      const onnxUrl = `models/${entry[w.encode ? 'reconstruct' : 'decode']}`;
      models[rt.key] = await frames[rt.key].make(w, weights, onnxUrl);
      models[rt.key].async = frames[rt.key].async;
    }
    const keys = RUNTIMES.map(r => r.key);
    // Same outputs: the largest difference from our float kernel's Bernoulli means over the whole batch.
    const y = {};
    for (const k of keys) y[k] = Float32Array.from(await models[k].call(input));
    const runtimes = {};
    for (const rt of RUNTIMES) {
      let maxDiff = 0;
      for (let i = 0; i < y.oursF.length; i++) maxDiff = Math.max(maxDiff, Math.abs(y[rt.key][i] - y.oursF[i]));
      const bound = !rt.int8 ? FLOAT_BOUND : w.int8Unchecked ? null : INT8_BOUND;
      runtimes[rt.key] = { maxDiff, bound, same: y[rt.key].length === y.oursF.length && (bound === null || maxDiff < bound) };
    }
    const calls = {};
    for (const k of keys) calls[k] = await callsPerBlock(models[k], input);
    const times = Object.fromEntries(keys.map(k => [k, []]));
    for (let r = 0; r < REPS; r++) {
      const order = r % 2 ? [...keys].reverse() : keys;  // alternate the order, so drift hits all alike
      for (const k of order) times[k].push(await timeBlock(models[k], input, calls[k]));
    }
    for (const k of keys) Object.assign(runtimes[k], summary(times[k], flops), { calls: calls[k] });
    // Ratios of medians: each runtime's time over our int8 kernel's (> 1: ours is faster).
    for (const k of keys) runtimes[k].perInt8 = runtimes[k].ms / runtimes.oursQ.ms;
    const fastest2 = ['tf2', 'ort2'].reduce((a, b) => (runtimes[a].ms <= runtimes[b].ms ? a : b));
    return { name: w.name, model: w.model, weights: entry.weights, Z: w.Z, B: w.B, flops,
             int8Layers: quant.int8Layers, runtimes, fastest2, tfjsPerInt8: runtimes.tf1.perInt8,
             fastest2PerInt8: runtimes[fastest2].perInt8 };
  } finally {
    for (const k of Object.keys(models)) await models[k].free();
    if (!models.oursF) M._bench_free(float.h);
    if (!models.oursQ) M._bench_free(quant.h);
  }
}

async function main() {
  if (!crossOriginIsolated)
    throw new Error('this page needs cross-origin isolation for the 2-thread runtimes: serve it with ' +
                    '`node web/bench/run.mjs --serve`, which sends COOP/COEP headers');
  status('loading the models and the runtimes…');
  const manifest = await (await fetch('models/models.json')).json();
  const M = await createVaeBench();
  const frames = {};
  // One frame at a time: each compiles its wasm, which would otherwise crowd the others.
  for (const rt of RUNTIMES.filter(r => r.lib)) frames[rt.key] = await startFrame(rt);
  const env = {
    userAgent: navigator.userAgent, crossOriginIsolated, hardwareConcurrency: navigator.hardwareConcurrency,
    ours: { isa: M.UTF8ToString(M._bench_isa()), int8Isa: M.UTF8ToString(M._bench_int8_isa()) },
    reps: REPS, blockMs: BLOCK_MS, floatBound: FLOAT_BOUND, int8Bound: INT8_BOUND,
    runtimes: RUNTIMES.map(({ key, label, lib, threads }) => ({ key, label, lib, threads })),
  };
  env.peakGflops = peakGops(steps => M._bench_peak_probe(steps));
  env.peakInt8Gops = peakGops(steps => M._bench_int8_peak_probe(steps));
  const results = [], bytes = {};
  for (const w of workloads(manifest)) {
    status(`timing ${w.name}…`);
    bytes[w.model] ??= await fetchBytes(`models/${manifest.models[w.model].file}`);
    results.push(await timeWorkload(M, frames, manifest, w, bytes[w.model]));
  }
  // Read after the runs: the thread pools' workers may start with the first call.
  env.frames = Object.fromEntries(Object.entries(frames).map(([k, f]) => [k, f.env()]));
  return { env, results };
}

function render({ env, results }) {
  const t = document.getElementById('results');
  const f = x => x.toFixed(x < 1 ? 4 : 2);
  t.innerHTML = '<tr><th>workload</th><th>runtime</th><th>ms</th><th>GFLOP/s</th><th>/ ours int8</th>' +
                '<th>max |diff| vs ours float</th></tr>' +
                results.flatMap(r => RUNTIMES.map(rt => {
                  const x = r.runtimes[rt.key];
                  return `<tr><td>${r.name}</td><td>${rt.label}</td><td>${f(x.ms)}</td><td>${x.gflops.toFixed(1)}</td>` +
                         `<td>${x.perInt8.toFixed(2)}x</td><td>${x.maxDiff.toExponential(1)}${x.same ? '' : ' (DIFFERENT)'}</td></tr>`;
                })).join('');
  const fr = env.frames;
  status(`ours: ${env.ours.isa}, int8 ${env.ours.int8Isa}; TensorFlow.js ${fr.tf1.version} threads ${fr.tf1.threads}/` +
         `${fr.tf2.threads}; ORT-web ${fr.ort1.version} threads ${fr.ort1.threads}/${fr.ort2.threads}; ceilings ` +
         `${env.peakGflops.toFixed(1)} GFLOP/s float, ${env.peakInt8Gops.toFixed(1)} GOP/s int8; medians of ${env.reps} blocks`);
}

main().then(r => { render(r); window.benchResult = { ok: true, ...r }; },
            e => { status(`failed: ${e.message}`); window.benchResult = { ok: false, error: String(e.stack || e) }; });
