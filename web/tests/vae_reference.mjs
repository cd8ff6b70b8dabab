// A second, independent implementation of the studio's encoder, decoder and ELBO terms, in plain JavaScript
// (double precision), straight from a model's safetensors file: the tests compare the page's figures with it.
// It shares no code with src/vae/ and checks only what the tests need (F32/F16 tensors, I8 weights with their per-row
// F32 scales X.weight_scale as `vae quantize` writes them, ReLU MLPs); not a loader.
import { readFileSync } from 'node:fs';

function f16(h) {
  const s = h & 0x8000 ? -1 : 1, e = (h >> 10) & 0x1f, m = h & 0x3ff;
  if (e === 0) return s * m * 2 ** -24;
  if (e === 31) return m ? NaN : s * Infinity;
  return s * (1 + m / 1024) * 2 ** (e - 15);
}

// Tensors by name: { shape, data: Float64Array (row-major) }.
export function readSafetensors(path) {
  const buf = readFileSync(path);
  const n = Number(buf.readBigUInt64LE(0));
  const header = JSON.parse(buf.subarray(8, 8 + n).toString('utf8'));
  const base = 8 + n, tensors = {}, size = { F16: 2, F32: 4, I8: 1 };
  for (const [name, t] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const [a, b] = t.data_offsets, count = t.shape.reduce((x, y) => x * y, 1), data = new Float64Array(count);
    for (let i = 0; i < count; i++)
      data[i] = t.dtype === 'F16' ? f16(buf.readUInt16LE(base + a + 2 * i))
              : t.dtype === 'F32' ? buf.readFloatLE(base + a + 4 * i)
              : t.dtype === 'I8' ? buf.readInt8(base + a + i) : NaN;
    if (b - a !== count * (size[t.dtype] || NaN)) throw new Error(`${name}: size`);
    tensors[name] = { shape: t.shape, data };
  }
  // An int8 weight's values times its row's scale.
  for (const [name, s] of Object.entries(tensors)) {
    if (!name.endsWith('.weight_scale')) continue;
    const w = tensors[name.slice(0, -'_scale'.length)], cols = w.shape[1];
    for (let i = 0; i < w.data.length; i++) w.data[i] *= s.data[Math.floor(i / cols)];
    delete tensors[name];
  }
  return tensors;
}

function linear(t, prefix, x) {
  const W = t[`${prefix}.weight`], bias = t[`${prefix}.bias`].data, [out, inp] = W.shape, y = new Float64Array(out);
  for (let o = 0; o < out; o++) {
    let s = bias[o];
    for (let i = 0; i < inp; i++) s += W.data[o * inp + i] * x[i];
    y[o] = s;
  }
  return y;
}
const relu = v => v.map(x => (x > 0 ? x : 0));
function hidden(t, part, x) {
  for (let k = 1; t[`${part}.fc${k}.weight`]; k++) x = relu(linear(t, `${part}.fc${k}`, x));
  return x;
}

export class ReferenceVae {
  constructor(path) { this.t = readSafetensors(path); }
  // q(z|x): its mean and standard deviation.
  encode(x) {
    const h = hidden(this.t, 'encoder', x);
    return { mu: Array.from(linear(this.t, 'encoder.mu', h)),
             sigma: Array.from(linear(this.t, 'encoder.logvar', h), lv => Math.exp(0.5 * lv)) };
  }
  logits(z) { return linear(this.t, 'decoder.out', hidden(this.t, 'decoder', z)); }
  decode(z) { return Array.from(this.logits(z), l => 1 / (1 + Math.exp(-l))); }
  // -log p(x|z) with Bernoulli means sigmoid(logits) and grey targets x: sum of softplus(l) - x l.
  nll(x, z) {
    const l = this.logits(z);
    let s = 0;
    for (let i = 0; i < l.length; i++) s += Math.max(l[i], 0) + Math.log1p(Math.exp(-Math.abs(l[i]))) - x[i] * l[i];
    return s;
  }
}

// KL(N(mu, sigma^2) || N(0, 1)) in closed form (Kingma & Welling 2013, appendix B).
export function klGaussian(mu, sigma) {
  return mu.reduce((s, m, j) => s + 0.5 * (m * m + sigma[j] ** 2 - 1 - 2 * Math.log(sigma[j])), 0);
}

// E_q[-log p(x|z)] by Monte Carlo with `n` samples (Box-Muller on a fixed xorshift stream): its mean and the
// standard deviation of one sample, which says how far a few-sample estimate may be from the mean.
export function expectedNll(vae, x, mu, sigma, n = 2000) {
  let state = 0x9e3779b9;
  const uniform = () => {
    state ^= state << 13; state >>>= 0; state ^= state >>> 17; state ^= state << 5; state >>>= 0;
    return (state + 0.5) / 4294967296;
  };
  const normal = () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
  let s = 0, s2 = 0;
  for (let k = 0; k < n; k++) {
    const v = vae.nll(x, mu.map((m, j) => m + sigma[j] * normal()));
    s += v;
    s2 += v * v;
  }
  const mean = s / n;
  return { mean, sd: Math.sqrt(Math.max(0, s2 / n - mean * mean)) };
}
