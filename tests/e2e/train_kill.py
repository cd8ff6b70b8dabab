#!/usr/bin/env python3
"""The trainer survives SIGKILL: kills `vae train` at random moments and while it writes a checkpoint, checks after
every kill that the checkpoint and the model on disk load (`vae info`) and that no epoch already saved was lost,
resumes with --resume, and at the end requires the weights (and the checkpoint's Adam moments) to be
bit-identical to an uninterrupted run with the same seed.

  train_kill.py VAE ROOT WORKDIR [--kills N] [--write-kills N] [--seed S]

A kill "lands in a write" when, after the process is dead, a .tmp file is there that this run created or
truncated: st_save was stopped between creating the temporary file and renaming it over the real one.
"""
import argparse
import json
import os
import random
import signal
import struct
import subprocess
import sys
import time


def tensors(path):
    """name -> raw bytes of each tensor, and the metadata, of a safetensors file."""
    with open(path, 'rb') as f:
        data = f.read()
    (n,) = struct.unpack('<Q', data[:8])
    header = json.loads(data[8:8 + n])
    meta = header.pop('__metadata__', {})
    base = 8 + n
    return {k: data[base + v['data_offsets'][0]:base + v['data_offsets'][1]] for k, v in header.items()}, meta


def stamp(path):
    """What identifies one write of a file: its change time and size (None when absent)."""
    try:
        st = os.stat(path)
        return (st.st_mtime_ns, st.st_size)
    except FileNotFoundError:
        return None


def info(vae, path):
    """`vae info` on path: the checkpoint's epoch (or 0 for a model); fails the test if it does not load."""
    r = subprocess.run([vae, 'info', '--model', path], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f'FAIL: {path} does not load after a kill: {r.stderr.strip()}')
    for line in r.stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[0] == 'checkpoint.epoch':
            return int(parts[1])
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('vae')
    ap.add_argument('root')
    ap.add_argument('work')
    ap.add_argument('--kills', type=int, default=24)
    ap.add_argument('--write-kills', type=int, default=8, help='of which at least this many during a write')
    ap.add_argument('--seed', type=int, default=20240601)
    args = ap.parse_args()
    rng = random.Random(args.seed)
    os.makedirs(args.work, exist_ok=True)

    # 784-256-128-[2] on 100 images in batches of 50, validated on 50: a 7.5 MB checkpoint after every two-step
    # epoch, so that writing it is a large share of the time.
    epochs = 70

    def command(out, resume):
        c = [args.vae, 'train', '--root', args.root, '--hidden', '256,128', '--latent', '2', '--limit', '100',
             '--batch', '50', '--val', '50', '--epochs', str(epochs), '--warmup', '5', '--seed', '11', '--out', out]
        return c + (['--resume'] if resume else [])

    ref = os.path.join(args.work, 'whole.safetensors')
    out = os.path.join(args.work, 'killed.safetensors')
    for p in (ref, out):
        for q in (p, p + '.tmp', p + '.ckpt.safetensors', p + '.ckpt.safetensors.tmp'):
            if os.path.exists(q):
                os.remove(q)
    ckpt, ckpt_tmp, out_tmp = out + '.ckpt.safetensors', out + '.ckpt.safetensors.tmp', out + '.tmp'

    # The uninterrupted run, timed: start-up to the first checkpoint, then the epochs.
    t0 = time.monotonic()
    p = subprocess.Popen(command(ref, False), stdout=subprocess.DEVNULL)
    first = None
    while p.poll() is None:
        if first is None and os.path.exists(ref + '.ckpt.safetensors'):
            first = time.monotonic() - t0
        time.sleep(0.001)
    whole_s = time.monotonic() - t0
    if p.returncode != 0 or first is None:
        sys.exit(f'FAIL: the uninterrupted run failed ({p.returncode})')
    print(f'uninterrupted run: first checkpoint after {first:.2f} s, {epochs} epochs in {whole_s:.1f} s')

    kills = write_kills = random_kills = random_in_write = start_kills = launches = 0
    saved_epoch = 0
    final_write_killed = False
    while True:
        launches += 1
        before = {p: stamp(p) for p in (ckpt, ckpt_tmp, out_tmp)}
        # The kind of kill: 'start' at a random moment of the start-up (before the run's first checkpoint),
        # 'random' at a random moment of the two epochs after the run's second checkpoint (training steps,
        # validation, writes), 'write' as soon as the run has a checkpoint half written. Once the quotas are met,
        # runs are killed as soon as the final model is half written (the first such run trains the remaining
        # epochs; later ones resume at the end and only write the model), and the next run finishes.
        if kills < args.kills:
            need_writes = args.write_kills - write_kills
            u = rng.random()
            target = 'write' if need_writes >= args.kills - kills or u < 0.3 else 'start' if u < 0.5 else 'random'
        else:
            target = None if final_write_killed else 'final'

        p = subprocess.Popen(command(out, True), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        start = time.monotonic()
        if target == 'start':
            deadline = start + rng.uniform(0, first)
            while p.poll() is None and time.monotonic() < deadline and stamp(ckpt) == before[ckpt]:
                time.sleep(0.001)
        elif target == 'random':
            # The run's own epoch time (this machine may be busy), from its first two checkpoints.
            seen, times = before[ckpt], []
            while p.poll() is None and len(times) < 2:
                now = stamp(ckpt)
                if now != seen:
                    seen = now
                    times.append(time.monotonic())
                time.sleep(0.0005)
            if len(times) == 2:
                deadline = times[1] + rng.uniform(0, 2) * (times[1] - times[0])
                while p.poll() is None and time.monotonic() < deadline:
                    time.sleep(0.0005)
        elif target in ('write', 'final'):
            watch = out_tmp if target == 'final' else ckpt_tmp
            while p.poll() is None and stamp(watch) in (None, before[watch]):
                time.sleep(0.0002)
        if target is not None and p.poll() is None:
            p.send_signal(signal.SIGKILL)
        at = time.monotonic() - start
        err = p.communicate()[1].decode()
        if p.returncode == 0:
            if target == 'final':
                continue  # it wrote the model before the kill landed: try again
            if target is not None:
                sys.exit(f'FAIL: training finished after {kills} kills; raise the epochs')
            break
        if p.returncode != -signal.SIGKILL:
            sys.exit(f'FAIL: the trainer exited with {p.returncode}: {err.strip()}')
        kills += 1
        in_write = [q for q in (ckpt_tmp, out_tmp) if stamp(q) not in (None, before[q])]
        if in_write:
            write_kills += 1
        start_kills += target == 'start'
        if target == 'random':
            random_kills += 1
            random_in_write += bool(in_write)
        if out_tmp in in_write:
            final_write_killed = True
        # What is on disk must load, and no saved epoch may be lost.
        if os.path.exists(ckpt):
            epoch = info(args.vae, ckpt)
            if epoch < saved_epoch:
                sys.exit(f'FAIL: the checkpoint went back from epoch {saved_epoch} to {epoch}')
            saved_epoch = epoch
        elif saved_epoch > 0:
            sys.exit('FAIL: the checkpoint disappeared')
        if os.path.exists(out):
            info(args.vae, out)
        print(f'kill {kills:2d} ({target:6s} {at:5.2f} s after start): checkpoint at epoch '
              f'{saved_epoch:2d}{", in the middle of writing " + ", ".join(os.path.basename(q) for q in in_write) if in_write else ""}')
        if launches > 10 * args.kills:
            sys.exit('FAIL: no progress')

    if kills < args.kills or write_kills < args.write_kills or not final_write_killed:
        sys.exit(f'FAIL: only {kills} kills, {write_kills} during a write, final write killed: {final_write_killed}')
    a, _ = tensors(ref)
    b, meta = tensors(out)
    if a != b:
        diff = [k for k in a if a.get(k) != b.get(k)]
        sys.exit(f'FAIL: weights differ from the uninterrupted run in {len(diff)} tensors, e.g. {diff[:3]}')
    ca, _ = tensors(ref + '.ckpt.safetensors')
    cb, _ = tensors(ckpt)
    if ca != cb:
        sys.exit('FAIL: the final checkpoint (weights, Adam moments, best weights) differs from the uninterrupted run')
    print(f'{kills} kills in {launches} runs: {start_kills} in start-up, {random_kills} at random moments of training '
          f'({random_in_write} of them in a write), {write_kills} in all during a checkpoint or model write; '
          f'every checkpoint loaded; the resumed '
          f'weights and Adam moments are bit-identical to the uninterrupted run ({len(a)} tensors, best epoch '
          f'{meta.get("train.best_epoch")}); {time.monotonic() - t0:.0f} s in all')


if __name__ == '__main__':
    main()
