#!/usr/bin/env python3
"""The browser benchmark's models (web/bench), made at build time into the bench site: random-weight model files
in our safetensors format for the synthetic workloads, and for every model file in the folder the same layers as
ONNX graphs (decode, reconstruct) with the same weights, for onnxruntime-web. Not a model converter for users:
it knows only our MLP VAE (src/vae/model.hpp), and its graphs are the benchmark's, Gemm by Gemm.

  /usr/bin/python3 tools/bench/onnx_models.py build-web/bench/models

writes there bench-z2.safetensors and bench-z16.safetensors (F32, Glorot weights, small random biases), then
NAME.decode.onnx and NAME.reconstruct.onnx for each NAME.safetensors in the folder (a quantized file's I8
weights dequantized as our loader does: int8 value times its row's F32 scale), and models.json, the page's list
of them with the studio's 20x20 latent grid. Needs Debian's python3-onnx and python3-numpy (/usr/bin/python3).

Size letters as in src/vae/model.hpp: B batch, D input pixels (784), H hidden widths (512, 256), Z latent size.
Every weight is (out, in) row-major, as in the file; a layer is y = W x + b, which is ONNX's
Gemm(x (B, in), W (out, in), b, transB=1) -> (B, out).
"""
import argparse
import json
import os
import statistics
import struct
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

D, HIDDEN = 784, (512, 256)
OPSET = 13
# The metadata our loader reads (src/vae/model_io.cpp), as the shipped assets/mnist-z2.safetensors has it.
FORMAT = 'vae-studio/1'
GRID_N = 20  # the studio's latent grid (src/app/studio.hpp GridView): 20x20, inverse-CDF spacing

# ---------------------------------------------------------------------------------------------------------------
# safetensors (huggingface/safetensors README, "Format"): 8-byte little-endian header length N, N bytes of JSON,
# then the data, which the tensors' [begin, end) ranges tile. Our files' dtypes: F32, F16, BF16, and I8 for a
# quantized weight "X.weight" with its per-row F32 scales "X.weight_scale" (src/vae/quant.hpp).
# ---------------------------------------------------------------------------------------------------------------

ST_DTYPES = {'F32': (np.dtype('<f4'), 4), 'F16': (np.dtype('<f2'), 2), 'BF16': (np.dtype('<u2'), 2),
             'I8': (np.dtype('i1'), 1)}


class FormatError(ValueError):
    """A model file that is not what it claims to be; the message names the problem."""


def st_read(path):
    """(tensors, dtypes, metadata) of a safetensors file: tensors name -> numpy array in its stored dtype (BF16 as
    float32), dtypes name -> dtype name. Every offset and length is checked against the file's size."""
    with open(path, 'rb') as f:
        data = f.read()
    if len(data) < 8:
        raise FormatError('%s: %d bytes, shorter than the 8-byte header length' % (path, len(data)))
    (n,) = struct.unpack('<Q', data[:8])
    if n > len(data) - 8:
        raise FormatError('%s: header of %d bytes in a file of %d' % (path, n, len(data)))
    header = json.loads(data[8:8 + n].decode('utf-8'))
    meta = header.pop('__metadata__', None) or {}
    body = memoryview(data)[8 + n:]
    tensors, dtypes = {}, {}
    for name, e in header.items():
        if e.get('dtype') not in ST_DTYPES:
            raise FormatError('%s: tensor "%s" has dtype %s (F32, F16, BF16, I8 only)' % (path, name, e.get('dtype')))
        dt, size = ST_DTYPES[e['dtype']]
        shape = [int(s) for s in e['shape']]
        begin, end = (int(x) for x in e['data_offsets'])
        count = int(np.prod(shape)) if shape else 1
        if not 0 <= begin <= end <= len(body) or end - begin != count * size:
            raise FormatError('%s: tensor "%s" at [%d, %d) does not fit its shape %s in %d data bytes' %
                              (path, name, begin, end, shape, len(body)))
        a = np.frombuffer(body[begin:end], dtype=dt).reshape(shape)
        if e['dtype'] == 'BF16':
            a = (a.astype(np.uint32) << 16).view(np.float32)
        tensors[name], dtypes[name] = a, e['dtype']
    return tensors, dtypes, meta


def st_write(path, tensors, meta):
    """tensors (name -> float32 array, in file order) as F32, metadata first; data starts at a multiple of 8."""
    header, blobs, at = {'__metadata__': meta}, [], 0
    for name, a in tensors.items():
        blob = np.ascontiguousarray(a, dtype='<f4').tobytes()
        header[name] = {'dtype': 'F32', 'shape': list(a.shape), 'data_offsets': [at, at + len(blob)]}
        blobs.append(blob)
        at += len(blob)
    h = json.dumps(header, separators=(',', ':')).encode('utf-8')
    h += b' ' * (-(8 + len(h)) % 8)
    write_atomic(path, struct.pack('<Q', len(h)) + h + b''.join(blobs))


def write_atomic(path, data):
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(data)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------------------------------
# The model's layers, in the order of src/vae/model.cpp: encoder D -> H0 -> H1 -> (mu, logvar) each Z; decoder
# Z -> H1 -> H0 -> D logits, a Bernoulli's means after the sigmoid. ReLU after every hidden layer.
# ---------------------------------------------------------------------------------------------------------------

def layer_shapes(Z):
    """[(name, out, in)] in file order."""
    h0, h1 = HIDDEN
    return [('encoder.fc1', h0, D), ('encoder.fc2', h1, h0), ('encoder.mu', Z, h1), ('encoder.logvar', Z, h1),
            ('decoder.fc1', h1, Z), ('decoder.fc2', h0, h1), ('decoder.out', D, h0)]


def random_model(Z, seed):
    """Glorot-uniform weights (limit sqrt(6 / (in + out))) and biases uniform in [-0.05, 0.05), so that the
    bias path is exercised; float32 (name -> array) in file order."""
    rng = np.random.default_rng(seed)
    tensors = {}
    for name, rows, cols in layer_shapes(Z):
        limit = np.sqrt(6.0 / (rows + cols))
        tensors[name + '.weight'] = rng.uniform(-limit, limit, size=(rows, cols)).astype(np.float32)
        tensors[name + '.bias'] = (0.1 * (rng.uniform(size=rows) - 0.5)).astype(np.float32)
    return tensors


def model_meta(Z, seed):
    return {'format': FORMAT, 'vae.input': str(D), 'vae.image': '28x28', 'vae.hidden': ','.join(map(str, HIDDEN)),
            'vae.latent': str(Z), 'vae.likelihood': 'bernoulli',
            'bench.weights': 'random: Glorot uniform weights, biases uniform in [-0.05, 0.05), numpy seed %d' % seed}


def float_layers(path):
    """(Z, name -> (W (out, in), b (out,)) as float32) of a model file; an I8 weight times its rows' scales, the
    product rounded to float32 as src/vae/quant.cpp quant_weight_values does."""
    tensors, dtypes, meta = st_read(path)
    Z = int(meta.get('vae.latent', '0'))
    hidden = meta.get('vae.hidden', '')
    if hidden != ','.join(map(str, HIDDEN)) or meta.get('vae.input') != str(D) or Z <= 0:
        raise FormatError('%s: vae.input %s, vae.hidden %s, vae.latent %s: the benchmark knows %d-%s-[Z] only' %
                          (path, meta.get('vae.input'), hidden, meta.get('vae.latent'), D, ','.join(map(str, HIDDEN))))
    layers = {}
    for name, rows, cols in layer_shapes(Z):
        w, b = tensors.get(name + '.weight'), tensors.get(name + '.bias')
        if w is None or b is None or w.shape != (rows, cols) or b.shape != (rows,):
            raise FormatError('%s: layer %s missing or not (%d, %d)' % (path, name, rows, cols))
        if dtypes[name + '.weight'] == 'I8':
            scale = tensors.get(name + '.weight_scale')
            if scale is None or scale.shape != (rows,) or dtypes[name + '.weight_scale'] == 'I8':
                raise FormatError('%s: I8 weight %s without its (%d,) float scales' % (path, name, rows))
            w = w.astype(np.float32) * scale.astype(np.float32)[:, None]
        layers[name] = (w.astype(np.float32), b.astype(np.float32))
    return Z, layers


# ---------------------------------------------------------------------------------------------------------------
# ONNX graphs: one Gemm per layer (Y = X W^T + b, W as stored), Relu between, Sigmoid at the end. The encoder's
# two heads are one Gemm of 2Z outputs, mu its first Z columns, as the page's TensorFlow.js model does it; the
# reconstruction decodes the posterior means, as bench_reconstruct (src/bench/wasm_bench.cpp) does.
# ---------------------------------------------------------------------------------------------------------------

def gemm(nodes, inits, x, name, W, b, out):
    inits += [numpy_helper.from_array(W, name + '.weight'), numpy_helper.from_array(b, name + '.bias')]
    nodes.append(helper.make_node('Gemm', [x, name + '.weight', name + '.bias'], [out], name=name, transB=1))
    return out


def decoder_nodes(nodes, inits, z, L):
    h = gemm(nodes, inits, z, 'decoder.fc1', *L['decoder.fc1'], 'decoder.fc1.y')
    nodes.append(helper.make_node('Relu', [h], ['decoder.h1']))
    h = gemm(nodes, inits, 'decoder.h1', 'decoder.fc2', *L['decoder.fc2'], 'decoder.fc2.y')
    nodes.append(helper.make_node('Relu', [h], ['decoder.h0']))
    h = gemm(nodes, inits, 'decoder.h0', 'decoder.out', *L['decoder.out'], 'logits')
    nodes.append(helper.make_node('Sigmoid', [h], ['y']))


def onnx_model(Z, L, reconstruct, doc):
    nodes, inits = [], []
    if reconstruct:
        h = gemm(nodes, inits, 'x', 'encoder.fc1', *L['encoder.fc1'], 'encoder.fc1.y')
        nodes.append(helper.make_node('Relu', [h], ['encoder.h0']))
        h = gemm(nodes, inits, 'encoder.h0', 'encoder.fc2', *L['encoder.fc2'], 'encoder.fc2.y')
        nodes.append(helper.make_node('Relu', [h], ['encoder.h1']))
        heads_w = np.concatenate([L['encoder.mu'][0], L['encoder.logvar'][0]])   # (2Z, H1)
        heads_b = np.concatenate([L['encoder.mu'][1], L['encoder.logvar'][1]])   # (2Z,)
        gemm(nodes, inits, 'encoder.h1', 'encoder.heads', heads_w, heads_b, 'heads')  # (B, 2Z): [mu, logvar]
        inits += [numpy_helper.from_array(np.array(v, np.int64), n) for n, v in
                  (('mu.starts', [0]), ('mu.ends', [Z]), ('mu.axes', [1]))]
        nodes.append(helper.make_node('Slice', ['heads', 'mu.starts', 'mu.ends', 'mu.axes'], ['mu']))
        decoder_nodes(nodes, inits, 'mu', L)
        x = helper.make_tensor_value_info('x', TensorProto.FLOAT, ['B', D])
    else:
        decoder_nodes(nodes, inits, 'z', L)
        x = helper.make_tensor_value_info('z', TensorProto.FLOAT, ['B', Z])
    y = helper.make_tensor_value_info('y', TensorProto.FLOAT, ['B', D])
    graph = helper.make_graph(nodes, 'reconstruct' if reconstruct else 'decode', [x], [y], inits, doc_string=doc)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid('', OPSET)], producer_name='vae-studio bench')
    onnx.checker.check_model(model)
    return model


def grid_codes(n):
    """The studio's latent grid (src/app/studio.cpp grid_codes, GridView's defaults): n x n codes, row-major
    (B, 2); axis Phi^-1((i + 1/2) / n) (src/vae/latent.cpp grid_axis, inverse CDF), z = (axis[c], axis[n-1-r])."""
    axis = [statistics.NormalDist().inv_cdf((i + 0.5) / n) for i in range(n)]
    return [v for r in range(n) for c in range(n) for v in (axis[c], axis[n - 1 - r])]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('folder', help='the bench site\'s model folder (build-web/bench/models)')
    args = ap.parse_args()
    os.makedirs(args.folder, exist_ok=True)
    for Z in (2, 16):
        st_write(os.path.join(args.folder, 'bench-z%d.safetensors' % Z), random_model(Z, seed=Z), model_meta(Z, Z))
    manifest = {'models': {}, 'grid': {'n': GRID_N, 'spacing': 'inverse CDF', 'codes': grid_codes(GRID_N)}}
    for file in sorted(os.listdir(args.folder)):
        if not file.endswith('.safetensors'):
            continue
        name = file[:-len('.safetensors')]
        _, dtypes, meta = st_read(os.path.join(args.folder, file))
        Z, L = float_layers(os.path.join(args.folder, file))
        entry = {'file': file, 'Z': Z, 'quantized': 'I8' in dtypes.values(),
                 'weights': meta.get('bench.weights', 'trained (%s)' % meta.get('dataset', 'unknown data'))}
        for kind in ('decode', 'reconstruct'):
            doc = '%s of %s: y = sigmoid(...), weights as in the file (I8 ones dequantized)' % (kind, file)
            onnx.save(onnx_model(Z, L, kind == 'reconstruct', doc), os.path.join(args.folder, '%s.%s.onnx' % (name, kind)))
            entry[kind] = '%s.%s.onnx' % (name, kind)
        manifest['models'][name] = entry
    write_atomic(os.path.join(args.folder, 'models.json'), json.dumps(manifest, indent=1).encode('utf-8'))
    print('onnx_models: %s: %s' % (args.folder, ', '.join(sorted(manifest['models']))), file=sys.stderr)


if __name__ == '__main__':
    try:
        main()
    except FormatError as e:
        sys.exit('onnx_models: %s' % e)
