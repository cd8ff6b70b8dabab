#!/usr/bin/python3
"""PyTorch both ways (tools/pytorch/vae.py against our engine and CLI). Run with Debian's /usr/bin/python3, which
has python3-torch; a missing torch is a failure, not a skip. Work files go under --work, never the source tree.

  test_interop.py train-eval  --vae VAE --work DIR
      PyTorch trains 784-512-256-[2] briefly on 3,000 MNIST training images and exports F16; `vae eval --samples`
      on that file and PyTorch on the same file agree on the grey test-set ELBO within 0.05 nats per image, each
      averaged over enough draws of z that its own Monte Carlo error is well below that. A run stopped after two
      epochs and resumed ends with the same weights, bit for bit.
  test_interop.py reconstruct --engine ENGINE --model MODEL --digits DIGITS --work DIR
      One of our shipped models (map.* and pca.* tensors skipped) gives in PyTorch the engine's posterior means and
      log-variances of the 100 test digits and its decoder means at those posterior means, to 1e-5 (max abs);
      end to end (each side decoding its own mu) to 5e-5, float32 rounding of mu amplified by the decoder.
  test_interop.py ddp --vae VAE --work DIR
      Two processes with DistributedDataParallel on the CPU (gloo), by torchrun (when it runs: Debian's 1.13 on
      Python 3.11 needs --redirects 1 --tee 1) and by mp.spawn (--workers 2): in each run the ranks' final weights
      agree and the exported file loads in `vae info` and `vae eval`; the two launchers train the same weights.
  test_interop.py state-dict  --vae VAE --model MODEL --work DIR
      Plain state dicts, no __metadata__ (what safetensors.torch.save_file writes), in F32 and BF16, one with
      transformers' {"format": "pt"}, and another architecture (784-400-[16]): `vae info` and `vae eval` load them.
  test_interop.py reader --model MODEL
      tools/pytorch/vae.py's safetensors reader: our file read and written back unchanged; broken files refused.
Each prints what it measured; the README's figures come from these lines.
"""
import argparse
import json
import math
import os
import re
import shutil
import struct
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
TOOL = os.path.join(ROOT, 'tools', 'pytorch', 'vae.py')
sys.path.insert(0, os.path.dirname(TOOL))

import torch  # noqa: E402  (a missing torch fails here, loudly)
import vae as ptvae  # noqa: E402  (tools/pytorch/vae.py)

PY = sys.executable


class Failed(Exception):
    pass


def check(cond, what):
    if not cond:
        raise Failed(what)
    print('ok    ' + what, flush=True)


def run(cmd, timeout=300, ok=True):
    """Runs cmd, echoing it and its output; returns (exit code, stdout)."""
    print('$ ' + ' '.join(cmd), flush=True)
    t0 = time.time()
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    sys.stdout.write(p.stdout)
    print('  (exit %d, %.1fs)' % (p.returncode, time.time() - t0), flush=True)
    if ok and p.returncode != 0:
        raise Failed('%s exited with %d' % (os.path.basename(cmd[0]) if cmd[0] != PY else cmd[1], p.returncode))
    return p.returncode, p.stdout


def fresh(work):
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)


GREY = re.compile(r'^grey\s+ELBO\s+(-?[\d.]+) nats\s+\(reconstruction\s+(-?[\d.]+), KL\s+(-?[\d.]+)\)\s+(.*)$', re.M)


def vae_eval_grey(vae_cli, model, limit, samples=None, threads=2):
    cmd = [vae_cli, 'eval', '--model', model, '--limit', str(limit), '--root', ROOT, '--threads', str(threads)]
    if samples:
        cmd += ['--samples', str(samples)]
    _, out = run(cmd)
    m = GREY.search(out)
    if not m:
        raise Failed('no grey ELBO line in vae eval\'s output')
    se = re.search(r'\+- ([\d.]+) s\.e\.', m.group(4))
    return float(m.group(1)), float(m.group(2)), float(m.group(3)), float(se.group(1)) if se else None


def train_cmd(out, extra):
    return [PY, TOOL, 'train', '--latent', '2', '--hidden', '512,256', '--limit', '3000', '--val', '1000',
            '--epochs', '3', '--warmup', '1', '--seed', '1', '--out', out] + extra


# ---- a: trained in PyTorch, evaluated by `vae eval` ----

def test_train_eval(a):
    fresh(a.work)
    torch.set_num_threads(2)
    torch.set_flush_denormal(True)
    out = os.path.join(a.work, 'pt-z2.safetensors')
    run(train_cmd(out, ['--dtype', 'f16', '--threads', '2', '--report', os.path.join(a.work, 'report.json')]))
    report = json.load(open(os.path.join(a.work, 'report.json')))
    check(report['epochs'] == 3 and report['train_images'] == 3000, 'trained 3 epochs on 3000 images in %.1fs' %
          report['seconds'])
    run([a.vae, 'info', '--model', out])

    # Resume: stopped after 2 epochs, resumed for the third; the same bytes as the run straight through.
    resumed = os.path.join(a.work, 'pt-z2-resumed.safetensors')
    run(train_cmd(resumed, ['--dtype', 'f16', '--threads', '2', '--stop-after', '2']))
    check(not os.path.exists(resumed) and os.path.exists(resumed + '.ckpt.pt'),
          'stopped after 2 epochs: a checkpoint and no model yet')
    run(train_cmd(resumed, ['--dtype', 'f16', '--threads', '2', '--resume']))
    t_full, _ = ptvae.st_load(out)
    t_res, _ = ptvae.st_load(resumed)
    check(all(torch.equal(t_full[k], t_res[k]) for k in t_full) and t_full.keys() == t_res.keys(),
          'resumed after epoch 2: the same weights, bit for bit, as the run straight through')

    # The same test images, grey targets, each side averaging S draws of z per image with its own noise.
    n, S = 2000, 100
    model, meta = ptvae.load_model(out)
    check(meta.get('format') == 'vae-studio/1' and meta.get('vae.hidden') == '512,256' and
          meta.get('train.framework', '').startswith('pytorch ') and 'vae.py train' in meta.get('train.command', ''),
          'the export carries our metadata: format, vae.*, train.command, train.framework "%s"' %
          meta.get('train.framework'))
    images, _, _ = ptvae.dataset_open('mnist', 'test')
    x = images[:n]
    t0 = time.time()
    rec, var, kl = ptvae.elbo_samples(model.eval(), x, S, torch.Generator().manual_seed(12345))
    pt_elbo = -(rec.mean() + kl.mean()).item()
    pt_se = math.sqrt(var.sum().item()) / n
    pt_kl = kl.mean().item()
    print('PyTorch  grey ELBO %.3f nats (rec %.3f, KL %.3f) +- %.3f s.e., %d draws of z x %d test images (%.1fs)' %
          (pt_elbo, rec.mean().item(), pt_kl, pt_se, S, n, time.time() - t0), flush=True)
    ours, ours_rec, ours_kl, ours_se = vae_eval_grey(a.vae, out, n, S)
    print('vae eval grey ELBO %.3f nats (rec %.3f, KL %.3f) +- %.3f s.e.' % (ours, ours_rec, ours_kl, ours_se))
    one, _, _, _ = vae_eval_grey(a.vae, out, n)
    print('vae eval one-sample grey ELBO %.3f (its noise is about %.3f)' % (one, ours_se * math.sqrt(S)))
    check(pt_se < 0.0125 and ours_se < 0.0125, 'both Monte Carlo errors below a quarter of 0.05 (%.3f, %.3f)' %
          (pt_se, ours_se))
    check(abs(pt_kl - ours_kl) < 2e-3, 'the closed-form KL agrees: %.3f vs %.3f' % (pt_kl, ours_kl))
    diff = abs(pt_elbo - ours)
    check(diff < 0.05, 'ELBO per image: PyTorch %.3f vs vae eval %.3f, |diff| %.3f < 0.05 nats (%.1f s.e. of the '
                       'difference)' % (pt_elbo, ours, diff, diff / math.hypot(pt_se, ours_se)))


# ---- b: our model in PyTorch ----

def test_reconstruct(a):
    fresh(a.work)
    torch.set_num_threads(2)
    name = os.path.splitext(os.path.basename(a.model))[0]
    engine_out = os.path.join(a.work, name + '-engine.safetensors')
    run([a.engine, a.model, a.digits, engine_out])
    eng, _ = ptvae.st_load(engine_out)
    model, meta = ptvae.load_model(a.model)
    tensors, _ = ptvae.st_load(a.model)
    riding = sorted(k for k in tensors if k.startswith(('map.', 'pca.')))
    check(riding and set(model.state_dict()) == set(tensors) - set(riding),
          '%s: %s loaded; %d riding tensors skipped (%s)' % (name, model.describe(), len(riding), ', '.join(riding)))
    digits, dmeta = ptvae.st_load(a.digits)
    x = digits['images'].float().reshape(digits['images'].shape[0], -1)
    check(torch.equal(x, eng['images']), 'PyTorch reads the %d F16 test digits as the engine does' % x.shape[0])

    # Each stage on the same input: the encoder on the digits, the decoder at the engine's own posterior means.
    # End to end (each side decoding its own mu) the float32 rounding of mu, a few 1e-6, is amplified by the
    # decoder: for mnist-z2 PyTorch's own float32 and float64 passes differ by about 1.2e-5 there, so that figure
    # is printed against float64 and held to a looser bound.
    worst = {}
    for label, dtype in (('float32', torch.float32), ('float64', torch.float64)):
        m = model.to(dtype)
        with torch.no_grad():
            mu, logvar = m.encoder(x.to(dtype))
            at_engine_mu = torch.sigmoid(m.decoder(eng['mu'].to(dtype)))
            end_to_end = torch.sigmoid(m.decoder(mu))
        for key, t, ref in (('mu', mu, eng['mu']), ('logvar', logvar, eng['logvar']),
                            ('probs', at_engine_mu, eng['probs']), ('end-to-end probs', end_to_end, eng['probs'])):
            worst[(label, key)] = (t.double() - ref.double()).abs().max().item()
    for label in ('float32', 'float64'):
        print('PyTorch %s vs engine (max abs): mu %.2e, logvar %.2e, probs at the engine\'s mu %.2e, '
              'end-to-end probs %.2e' % ((label,) + tuple(worst[(label, k)] for k in
                                                          ('mu', 'logvar', 'probs', 'end-to-end probs'))))
    check(worst[('float32', 'mu')] <= 1e-5 and worst[('float32', 'logvar')] <= 1e-5,
          '%s: the encoder\'s mu and logvar agree to 1e-5 (%.2e, %.2e)' %
          (name, worst[('float32', 'mu')], worst[('float32', 'logvar')]))
    check(worst[('float32', 'probs')] <= 1e-5, '%s: the reconstruction (decoder means at the posterior mean) '
          'agrees to 1e-5 (%.2e)' % (name, worst[('float32', 'probs')]))
    check(worst[('float32', 'end-to-end probs')] <= 5e-5, '%s: end to end, each side decoding its own mu, to 5e-5 '
          '(%.2e; float64 PyTorch vs the engine %.2e)' % (name, worst[('float32', 'end-to-end probs')],
                                                          worst[('float64', 'end-to-end probs')]))


# ---- c: DistributedDataParallel on two processes ----

def test_ddp(a):
    fresh(a.work)
    common = ['train', '--latent', '2', '--hidden', '512,256', '--limit', '2000', '--val', '500', '--epochs', '2',
              '--warmup', '1', '--seed', '3', '--threads', '1', '--dtype', 'f16']

    def outputs(tag):
        return os.path.join(a.work, 'ddp-%s.safetensors' % tag), os.path.join(a.work, 'report-%s.json' % tag)

    # torchrun first. PyTorch 1.13's launcher on Python 3.11 fails in start_processes with "'NoneType' object has
    # no attribute 'get'": Std.from_str("0") finds no member, because 3.11's IntFlag iteration skips the zero
    # member NONE; --redirects 1 --tee 1 avoids the zero value and still shows the ranks' output.
    runs = []
    torchrun = shutil.which('torchrun') or ('/usr/bin/torchrun' if os.path.exists('/usr/bin/torchrun') else None)
    if torchrun:
        out, report = outputs('torchrun')
        launch = [torchrun, '--standalone', '--nnodes', '1', '--nproc_per_node', '2']
        for flags in ([], ['--redirects', '1', '--tee', '1']):
            code, text = run(launch + flags + [TOOL] + common + ['--out', out, '--report', report], timeout=120,
                             ok=False)
            if code == 0:
                runs.append(('torchrun' + (' ' + ' '.join(flags) if flags else ''), out, report))
                break
            last = [l for l in text.strip().splitlines() if l.strip()][-1:] or ['']
            print('torchrun %sfailed (exit %d: %s)' % (' '.join(flags) + ' ' if flags else '', code,
                                                         last[0].strip()[:200]), flush=True)
            if "'NoneType' object has no attribute 'get'" not in text:
                break
    else:
        print('no torchrun on PATH', flush=True)
    # The launcher-less way: --workers 2 (torch.multiprocessing.spawn, MASTER_ADDR/PORT set by vae.py).
    out, report = outputs('spawn')
    run([PY, TOOL] + common + ['--out', out, '--report', report, '--workers', '2'], timeout=300)
    runs.append(('mp.spawn', out, report))

    for how, out, report in runs:
        r = json.load(open(report))
        check(r['world'] == 2, '%s: two ranks (%s)' % (how, r['framework']))
        check(r['rank_weight_spread'] == 0.0, '%s: the two ranks\' final weights agree (max |w_1 - w_0| = %g)' %
              (how, r['rank_weight_spread']))
        print('%s, 2 ranks x 1 thread: %d epochs on %d images in %.1fs' %
              (how, r['epochs'], r['train_images'], r['seconds']), flush=True)
        _, info = run([a.vae, 'info', '--model', out])
        check('784-512-256-[2]-256-512-784' in info and 'DistributedDataParallel gloo, 2 processes' in info,
              '%s: vae info loads it: 784-512-256-[2], trained by DistributedDataParallel over 2 processes' % how)
        elbo, _, _, _ = vae_eval_grey(a.vae, out, 500)
        check(math.isfinite(elbo) and elbo < 0, '%s: vae eval --limit 500 runs: grey ELBO %.3f' % (how, elbo))
    if len(runs) == 2:
        w = [ptvae.st_load(out)[0] for _, out, _ in runs]
        check(w[0].keys() == w[1].keys() and all(torch.equal(w[0][k], w[1][k]) for k in w[0]),
              'torchrun and --workers 2 train the same weights, bit for bit')


# ---- d: plain state dicts ----

def test_state_dict(a):
    fresh(a.work)
    torch.set_num_threads(2)
    model, _ = ptvae.load_model(a.model)
    other = ptvae.VAE(784, [400], 16)
    other.init_glorot(7)
    files = []
    for name, m, dtype, meta in (('plain-f32', model, 'F32', None), ('plain-bf16', model, 'BF16', None),
                                 ('format-pt-bf16', model, 'BF16', {'format': 'pt'}),
                                 ('plain-400-z16-f32', other, 'F32', None)):
        path = os.path.join(a.work, name + '.safetensors')
        ptvae.st_save(path, m.state_dict(), meta, dtype)
        back, back_meta = ptvae.st_load(path)
        want = {k: v.to(ptvae.ST_DTYPES[dtype][0]) for k, v in m.state_dict().items()}
        check(back_meta == (meta or {}) and list(back) == list(want) and
              all(torch.equal(back[k], want[k]) for k in want),
              '%s: written as a state dict (%s, metadata %s) and read back by PyTorch unchanged' %
              (name, dtype, json.dumps(meta)))
        files.append((name, path, m))
    ref, _, ref_kl, _ = vae_eval_grey(a.vae, a.model, 500)
    for name, path, m in files:
        code, info = run([a.vae, 'info', '--model', path], ok=False)
        check(code == 0 and m.describe() in info, '%s: vae info loads it as %s' % (name, m.describe()))
        check('plain state dict' in info and 'absent      test figures, training command' in info,
              '%s: vae info says the architecture was inferred and the figures are absent' % name)
        elbo, _, _, _ = vae_eval_grey(a.vae, path, 500)
        check(math.isfinite(elbo), '%s: vae eval --limit 500: grey ELBO %.3f (the original file: %.3f)' %
              (name, elbo, ref))
        if name == 'plain-f32':  # the F16 weights widened exactly: the same figure
            check(elbo == ref, '%s: the same ELBO as the original F16 file' % name)
        elif m is model:  # rounded to BF16 (8 bits of mantissa)
            check(abs(elbo - ref) < 0.1, '%s: within 0.1 nats of the original (%+.3f)' % (name, elbo - ref))


# ---- the reader on hostile files ----

def test_reader(a):
    """tools/pytorch/vae.py's st_parse: our shipped file read and written back unchanged, and each broken file
    refused with a message naming the problem (never a crash, never a tensor read from outside the file)."""
    good = open(a.model, 'rb').read()
    tensors, meta = ptvae.st_parse(bytearray(good))
    again, meta2 = ptvae.st_parse(bytearray(ptvae.st_serialize(tensors, meta)))
    check(meta2 == meta and list(again) == list(tensors) and all(torch.equal(again[k], tensors[k]) for k in tensors),
          '%s: %d tensors read and written back unchanged' % (os.path.basename(a.model), len(tensors)))
    (n,) = struct.unpack('<Q', good[:8])
    header = json.loads(good[8:8 + n])
    payload = good[8 + n:]
    first = next(k for k in header if k != '__metadata__')

    def with_header(h, data=payload):
        raw = json.dumps(h).encode()
        return struct.pack('<Q', len(raw)) + raw + data

    def edited(fn):
        h = json.loads(json.dumps(header))
        fn(h[first])
        return with_header(h)

    cases = [
        ('empty', b'', 'shorter than the 8-byte header length'),
        ('header past the end', struct.pack('<Q', len(good)) + good[8:], 'runs past the end of the file'),
        ('huge header length', struct.pack('<Q', 1 << 60) + good[8:], 'over the limit'),
        ('not JSON', struct.pack('<Q', 4) + b'{abc', 'not UTF-8 JSON'),
        ('not an object', struct.pack('<Q', 2) + b'[]', 'does not start with "{"'),
        ('cut data', good[:-100], 'outside the data buffer'),
        ('extra data', good + b'\0' * 8, 'the tensors end at byte'),
        ('unknown dtype', edited(lambda e: e.update(dtype='F64')), "dtype 'F64' not supported"),
        ('wrong byte count', edited(lambda e: e.update(shape=[e['shape'][0] + 1] + e['shape'][1:])), 'bytes for shape'),
        ('negative size', edited(lambda e: e.update(shape=[-1] + e['shape'][1:])), 'is not a list of sizes'),
        ('offsets reversed', edited(lambda e: e.update(data_offsets=e['data_offsets'][::-1])), 'end before they begin'),
        ('missing key', edited(lambda e: e.pop('shape')), 'exactly dtype, shape and data_offsets'),
        ('metadata not strings', with_header(dict(header, __metadata__={'vae.latent': 2})), 'strings to strings'),
        ('duplicate name', struct.pack('<Q', 2 * len('"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}') + 3) +
         b'{"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]},"a":{"dtype":"F32","shape":[],"data_offsets":[0,4]}}'
         + b'\0' * 4, 'duplicate key'),
    ]
    # A hole: the first tensor moved 2 bytes on, the buffer grown by 2.
    h = json.loads(json.dumps(header))
    for k, e in h.items():
        if k != '__metadata__':
            e['data_offsets'] = [o + 2 for o in e['data_offsets']]
    cases.append(('hole at the start', with_header(h, b'\0\0' + payload), 'the tensors must tile the buffer'))
    for label, data, words in cases:
        try:
            ptvae.st_parse(bytearray(data))
        except ptvae.FormatError as e:
            check(words in str(e), '%s: refused: %s' % (label, e))
            continue
        raise Failed('%s: accepted' % label)
    # Model-level: a NaN weight and a tensor of the wrong shape.
    t = dict(tensors)
    t['encoder.mu.bias'] = torch.tensor([float('nan'), 0.0], dtype=torch.float16)
    for label, tt, words in (('NaN weight', t, 'holds NaN or Inf'),
                             ('extra tensor', dict(tensors, **{'decoder.fc9.weight': torch.zeros(2, 2)}),
                              'unexpected tensor "decoder.fc9.weight"')):
        try:
            ptvae.model_from_tensors(tt, meta)
        except ptvae.FormatError as e:
            check(words in str(e), '%s: refused: %s' % (label, e))
            continue
        raise Failed('%s: accepted' % label)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    sub = p.add_subparsers(dest='cmd', required=True)
    s = sub.add_parser('train-eval')
    s.add_argument('--vae', required=True)
    s.add_argument('--work', required=True)
    s = sub.add_parser('reconstruct')
    s.add_argument('--engine', required=True)
    s.add_argument('--model', required=True)
    s.add_argument('--digits', required=True)
    s.add_argument('--work', required=True)
    s = sub.add_parser('ddp')
    s.add_argument('--vae', required=True)
    s.add_argument('--work', required=True)
    s = sub.add_parser('reader')
    s.add_argument('--model', required=True)
    s = sub.add_parser('state-dict')
    s.add_argument('--vae', required=True)
    s.add_argument('--model', required=True)
    s.add_argument('--work', required=True)
    a = p.parse_args()
    print('torch %s, python %s (%s)' % (torch.__version__, sys.version.split()[0], sys.executable), flush=True)
    t0 = time.time()
    try:
        {'train-eval': test_train_eval, 'reconstruct': test_reconstruct, 'ddp': test_ddp,
         'state-dict': test_state_dict, 'reader': test_reader}[a.cmd](a)
    except (Failed, ptvae.FormatError, subprocess.TimeoutExpired) as e:
        print('FAIL  %s' % e, flush=True)
        sys.exit(1)
    print('passed (%.1fs)' % (time.time() - t0))


if __name__ == '__main__':
    main()
