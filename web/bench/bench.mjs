// The benchmark page's logic (see bench.html): four workloads, each a call from a Float32Array in to a
// Float32Array out, timed in alternating blocks for our engine (vae-bench.wasm, the studio's kernel) and for
// TensorFlow.js's wasm backend on the same weights and inputs. Results: the table on the page and
// window.benchResult (read by run.mjs).
const q = new URLSearchParams(location.search);
const REPS = Number(q.get('reps')) || 15;          // timed blocks per runtime and workload
const BLOCK_MS = Number(q.get('blockMs')) || 40;   // a block repeats whole calls for about this long
const TF_THREADS = Number(q.get('tfThreads')) || 1;
const D = 784, H1 = 512, H2 = 256;

const WORKLOADS = [
  { name: 'DEC16, batch 1', Z: 16, B: 1, encode: false },
  { name: 'DEC2, batch 400 (20x20 grid)', Z: 2, B: 400, encode: false },
  { name: 'ENC+DEC16, batch 1 (reconstruct)', Z: 16, B: 1, encode: true },
  { name: 'DEC16, batch 900 (30x30 grid)', Z: 16, B: 900, encode: false },
];
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

// Our engine: the model's weights live in wasm memory; a call copies the input in and the output out.
function ours(M, w) {
  const h = M._bench_make(w.Z, 1);
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
  const free = () => { M._free(inPtr); M._free(outPtr); };
  return { h, call, free };
}

// TensorFlow.js on the same weights: Dense layers as tfjs runs them, fused matMul + bias + activation with the
// kernel stored (in, out); the encoder's two heads as one layer of 2Z outputs.
function tfjs(M, h, w) {
  const layout = JSON.parse(M.UTF8ToString(M._bench_layout(h)));
  const base = M._bench_params(h) >> 2;
  const raw = name => {
    const t = layout.find(x => x.name === name);
    return { t, data: M.HEAPF32.slice(base + t.offset, base + t.offset + t.rows * (t.cols || 1)) };
  };
  const dense = (...names) => tf.tidy(() => {
    const Ws = names.map(n => { const { t, data } = raw(`${n}.weight`); return tf.tensor2d(data, [t.rows, t.cols]).transpose(); });
    const bs = names.map(n => tf.tensor1d(raw(`${n}.bias`).data));
    return { W: tf.keep(tf.concat(Ws, 1)), b: tf.keep(tf.concat(bs)) };
  });
  const enc = [dense('encoder.fc1'), dense('encoder.fc2'), dense('encoder.mu', 'encoder.logvar')];
  const dec = [dense('decoder.fc1'), dense('decoder.fc2'), dense('decoder.out')];
  const layer = (x, L, activation) => tf.fused.matMul({ a: x, b: L.W, bias: L.b, activation });
  const decode = z => layer(layer(layer(z, dec[0], 'relu'), dec[1], 'relu'), dec[2], 'sigmoid');
  const reconstruct = x => {
    const head = layer(layer(layer(x, enc[0], 'relu'), enc[1], 'relu'), enc[2], 'linear');
    return decode(head.slice([0, 0], [w.B, w.Z]));
  };
  const inDim = w.encode ? D : w.Z;
  const call = input => {
    const out = tf.tidy(() => (w.encode ? reconstruct : decode)(tf.tensor2d(input, [w.B, inDim])));
    const data = out.dataSync();
    out.dispose();
    return data;
  };
  const free = () => [...enc, ...dec].forEach(L => { L.W.dispose(); L.b.dispose(); });
  return { call, free };
}

// Whole calls per block so that a block lasts about BLOCK_MS (performance.now() is coarse in browsers).
function callsPerBlock(call, input) {
  for (let i = 0; i < 3; i++) call(input);  // warm-up: first-call compilation, allocations
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < BLOCK_MS) { call(input); n++; }
  return Math.max(1, n);
}

function timeBlock(call, input, calls) {
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) call(input);
  return (performance.now() - t0) / calls;
}

function summary(ms, flops) {
  const med = median(ms);
  return { ms: med, min: Math.min(...ms), max: Math.max(...ms), gflops: flops / (med * 1e6) };
}

// This browser's arithmetic ceiling for 128-bit WASM SIMD: the kernel's multiply-add probe, best of 5.
function peakGflops(M) {
  let best = 0;
  for (let i = 0; i < 5; i++) {
    const t0 = performance.now();
    const flops = M._bench_peak_probe(2000000);
    best = Math.max(best, flops / ((performance.now() - t0) * 1e6));
  }
  return best;
}

async function main() {
  status('starting TensorFlow.js (wasm backend)…');
  tf.wasm.setWasmPaths('tfjs/');
  tf.wasm.setThreadsCount(TF_THREADS);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its wasm backend');
  await tf.ready();
  const M = await createVaeBench();
  const env = {
    userAgent: navigator.userAgent,
    ours: { isa: M.UTF8ToString(M._bench_isa()) },
    tfjs: { version: tf.version.tfjs, backend: tf.getBackend(), simd: await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT'),
            threads: tf.wasm.getThreadsCount() },
    reps: REPS, blockMs: BLOCK_MS,
  };
  env.peakGflops = peakGflops(M);
  const results = [];
  for (const w of WORKLOADS) {
    status(`timing ${w.name}…`);
    const flops = w.B * (decodeFlops(w.Z) + (w.encode ? encodeFlops(w.Z) : 0));
    const next = random(1234 + w.Z + w.B);
    const input = new Float32Array((w.encode ? D : w.Z) * w.B).map(() => (w.encode ? next() : 4 * next() - 2));
    const a = ours(M, w), b = tfjs(M, a.h, w);
    // Same outputs: the largest difference of the Bernoulli means over the whole batch.
    const ya = a.call(input).slice(), yb = b.call(input);
    let maxDiff = 0;
    for (let i = 0; i < ya.length; i++) maxDiff = Math.max(maxDiff, Math.abs(ya[i] - yb[i]));
    const calls = [callsPerBlock(a.call, input), callsPerBlock(b.call, input)];
    const times = [[], []];
    for (let r = 0; r < REPS; r++) {
      const order = r % 2 ? [1, 0] : [0, 1];  // alternate who goes first, so drift hits both alike
      for (const k of order) times[k].push(timeBlock([a.call, b.call][k], input, calls[k]));
    }
    const row = { name: w.name, Z: w.Z, B: w.B, flops, maxDiff, same: maxDiff < 1e-4, calls,
                  ours: summary(times[0], flops), tfjs: summary(times[1], flops) };
    row.speedup = row.tfjs.ms / row.ours.ms;
    results.push(row);
    a.free();
    b.free();
    M._bench_free(a.h);
  }
  return { env, results };
}

function render({ env, results }) {
  const t = document.getElementById('results');
  const f = x => x.toFixed(x < 1 ? 4 : 2);
  t.innerHTML = '<tr><th>workload</th><th>ours ms</th><th>GFLOP/s</th><th>tfjs ms</th><th>GFLOP/s</th>' +
                '<th>tfjs / ours</th><th>max |diff|</th></tr>' +
                results.map(r => `<tr><td>${r.name}</td><td>${f(r.ours.ms)}</td><td>${r.ours.gflops.toFixed(1)}</td>` +
                  `<td>${f(r.tfjs.ms)}</td><td>${r.tfjs.gflops.toFixed(1)}</td><td>${r.speedup.toFixed(2)}x</td>` +
                  `<td>${r.maxDiff.toExponential(1)}</td></tr>`).join('');
  status(`ours: ${env.ours.isa}; TensorFlow.js ${env.tfjs.version} ${env.tfjs.backend}, SIMD ${env.tfjs.simd}, ` +
         `${env.tfjs.threads} thread(s); ceiling ${env.peakGflops.toFixed(1)} GFLOP/s; medians of ${env.reps} blocks`);
}

main().then(r => { render(r); window.benchResult = { ok: true, ...r }; },
            e => { status(`failed: ${e.message}`); window.benchResult = { ok: false, error: String(e.stack || e) }; });
