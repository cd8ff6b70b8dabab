// One runtime the benchmark page compares our engine with, in a frame of its own (runtime.html?lib=...&threads=N):
// TensorFlow.js's wasm backend (lib=tfjs) or onnxruntime-web's wasm execution provider (lib=ort). Not our engine.
// A frame each, because both fix their thread count when their wasm starts (tfjs setThreadsCount, ORT
// env.wasm.numThreads), once per page. The frame has the page's origin, so it runs on the page's main thread and
// the page calls window.runtime's functions directly, as it calls ours: same inputs, same clock, same blocks.
//   window.runtimeReady: Promise of window.runtime = { env(), make(w, weights, onnxUrl) -> model, async }
//   model = { call(input Float32Array) -> Float32Array (a Promise of it for ORT), free() }
const q = new URLSearchParams(location.search);
const LIB = q.get('lib');
const THREADS = Number(q.get('threads')) || 1;
const D = 784;

// The workers this frame starts (the runtimes' thread pools), counted as evidence of the threads they use.
let workers = 0;
const FrameWorker = window.Worker;
window.Worker = class extends FrameWorker {
  constructor(...args) {
    super(...args);
    workers++;
  }
};

function loadScript(src) {
  return new Promise((ok, fail) => {
    const s = document.createElement('script');
    s.src = src;
    s.onload = ok;
    s.onerror = () => fail(new Error(`could not load ${src}`));
    document.head.append(s);
  });
}

// TensorFlow.js: Dense layers as tfjs runs them, fused matMul + bias + activation with the kernel stored
// (in, out); the encoder's two heads as one layer of 2Z outputs. weights: name -> { data, rows, cols } (out, in)
// row-major, the float weights our engine runs, copied here (the page's arrays belong to another realm).
async function startTfjs() {
  await loadScript('tfjs/tf.min.js');
  await loadScript('tfjs/tf-backend-wasm.min.js');
  tf.wasm.setWasmPaths('tfjs/');
  // One thread: the binary a page without cross-origin isolation gets (SIMD, no threads), as the product
  // page would run it. More: the threaded SIMD binary, which needs this page's cross-origin isolation.
  if (THREADS === 1) tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  // tfjs caps its thread pool at navigator.hardwareConcurrency / 2 (its backend.cc assumes two logical cores per
  // physical one), so on a machine of 2 logical cores setThreadsCount(2) gives 1 thread. This frame alone then
  // shows tfjs twice the logical cores, read once as its wasm starts; env() reports both figures.
  const cores = navigator.hardwareConcurrency;
  const shownCores = Math.max(cores, 2 * THREADS);
  if (shownCores !== cores) Object.defineProperty(Navigator.prototype, 'hardwareConcurrency', { get: () => shownCores });
  tf.wasm.setThreadsCount(THREADS);
  if (!(await tf.setBackend('wasm'))) throw new Error('TensorFlow.js could not start its wasm backend');
  await tf.ready();
  const simd = await tf.env().getAsync('WASM_HAS_SIMD_SUPPORT');
  const threaded = await tf.env().getAsync('WASM_HAS_MULTITHREAD_SUPPORT');
  const env = () => ({
    lib: 'tfjs', version: tf.version.tfjs, backend: tf.getBackend(), simd, crossOriginIsolated,
    binary: `tfjs-backend-wasm${threaded && simd ? '-threaded-simd' : simd ? '-simd' : ''}.wasm`,
    threadsAsked: THREADS, threads: tf.wasm.getThreadsCount(), workers, cores, shownCores,
  });
  const make = (w, weights) => {
    const dense = (...names) => tf.tidy(() => {
      const Ws = names.map(n => {
        const t = weights[`${n}.weight`];
        return tf.tensor2d(new Float32Array(t.data), [t.rows, t.cols]).transpose();
      });
      const bs = names.map(n => tf.tensor1d(new Float32Array(weights[`${n}.bias`].data)));
      return { W: tf.keep(tf.concat(Ws, 1)), b: tf.keep(tf.concat(bs)) };
    });
    const enc = w.encode ? [dense('encoder.fc1'), dense('encoder.fc2'), dense('encoder.mu', 'encoder.logvar')] : [];
    const dec = [dense('decoder.fc1'), dense('decoder.fc2'), dense('decoder.out')];
    const layer = (x, L, activation) => tf.fused.matMul({ a: x, b: L.W, bias: L.b, activation });
    const decode = z => layer(layer(layer(z, dec[0], 'relu'), dec[1], 'relu'), dec[2], 'sigmoid');
    const reconstruct = x => {
      const head = layer(layer(layer(x, enc[0], 'relu'), enc[1], 'relu'), enc[2], 'linear');
      return decode(head.slice([0, 0], [w.B, w.Z]));
    };
    const inDim = w.encode ? D : w.Z;
    const buf = new Float32Array(inDim * w.B);
    const call = input => {
      buf.set(input);
      const out = tf.tidy(() => (w.encode ? reconstruct : decode)(tf.tensor2d(buf, [w.B, inDim])));
      const data = out.dataSync();
      out.dispose();
      return data;
    };
    const free = () => [...enc, ...dec].forEach(L => { L.W.dispose(); L.b.dispose(); });
    return { call, free };
  };
  return { env, make, async: false };
}

// onnxruntime-web, wasm execution provider: the ONNX graph of the same layers with the same weights
// (tools/bench/onnx_models.py), one session per workload; feeds and fetches as an application passes them.
async function startOrt() {
  await loadScript('ort/ort.wasm.min.js');
  ort.env.wasm.wasmPaths = new URL('ort/', location.href).href;
  ort.env.wasm.numThreads = THREADS;
  ort.env.wasm.simd = true;
  ort.env.wasm.proxy = false;  // run on this thread, as the page runs ours
  const env = () => ({
    lib: 'ort', version: ort.env.versions?.web, backend: 'wasm', simd: ort.env.wasm.simd, crossOriginIsolated,
    binary: 'ort-wasm-simd-threaded.wasm', threadsAsked: THREADS, threads: ort.env.wasm.numThreads, workers,
  });
  const make = async (w, weights, onnxUrl) => {
    // The wasm starts with the first session; numThreads falls back to 1 (with a warning) without isolation.
    const session = await ort.InferenceSession.create(onnxUrl, { executionProviders: ['wasm'],
                                                                 graphOptimizationLevel: 'all' });
    const inDim = w.encode ? D : w.Z;
    const [input] = session.inputNames, [output] = session.outputNames;
    const buf = new Float32Array(inDim * w.B);
    const call = async x => {
      buf.set(x);
      const y = (await session.run({ [input]: new ort.Tensor('float32', buf, [w.B, inDim]) }))[output];
      return y.data;
    };
    return { call, free: () => session.release() };
  };
  return { env, make, async: true };
}

window.runtimeReady = (LIB === 'tfjs' ? startTfjs() : LIB === 'ort' ? startOrt()
  : Promise.reject(new Error(`runtime.html: unknown lib "${LIB}" (tfjs or ort)`)))
  .then(r => (window.runtime = r));
