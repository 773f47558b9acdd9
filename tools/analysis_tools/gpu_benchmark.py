"""GPU benchmark of CEN against its compute floor: step time, peak memory and host
synchronisations, for CEN-RefineNet-R101, CEN-PSPNet-R101 and one modern-backbone
family, CEN-SegFormer-MiT-B2 (``MultiStreamBackbone``).

    python tools/analysis_tools/gpu_benchmark.py [--device cuda] [--size 480]
        [--batch 2] [--iters 20] [--warmup 5] [--exchange-frac 0.2]
        [--config CFG [CFG ...]] [--streams M] [--backbone-only] [--amp]
        [--compile BACKEND] [--check] [--json OUT]

Everything it needs is in the repository: the model configs and random inputs (no
data set, no pretrained weights). The CEN model and its floor (the same network as
one stream at batch M*N: for ``CENResNet`` the one-stream CENResNet with plain norms,
for ``MultiStreamBackbone`` the stock mmseg / mmpretrain backbone in mmseg's
``EncoderDecoder``) are built exactly as in ``benchmark_cen.py``, by the same
package code (``cen_mm.utils.benchmark``: ``ModelPair``, timing, peak memory), with
``--exchange-frac`` of each stream's sub-part of every exchanging norm below θ
(channels are really exchanged). Per model and phase
(train: zero_grad + forward + backward + SGD step; infer: forward under ``no_grad``):

* step time: median over ``--iters`` rounds after ``--warmup``, CEN and floor
  alternating, with ``torch.cuda.synchronize`` around each step;
* peak memory: ``torch.cuda.max_memory_allocated`` during one step, above what was
  allocated before it (activations and temporaries);
* synchronisations: the number of host-device synchronisations during one step,
  counted with ``torch.cuda.set_sync_debug_mode('warn')`` (each synchronising CUDA
  call warns once per call; the warnings are counted, not printed). mmseg's decode
  head losses synchronise (e.g. ``.item()`` in its cross-entropy), and CEN trains
  M+1 heads where the floor trains one: ``--backbone-only`` counts the backbone's
  alone.

``--amp`` runs forwards and losses under bfloat16 ``torch.autocast``; ``--streams M``
repeats the config's modalities to M streams; ``--check`` first runs, per config, one
inference and one training step in float32 on the device and on the CPU and compares
both with the same steps in float64 on the CPU (TF32 off, dropout off; relative
errors of the logits, the loss and the gradients: the device's must be rounding, i.e.
small or of the CPU's order), checks the exchange's sync-free path against its
indexed path on the device (``torch.equal`` of values and gradients), and exits
non-zero on a mismatch (``cen_mm/utils/benchmark/device_check.py``).

On a 2024-era data-centre GPU the defaults take a few minutes (both models, both
phases). ``--device cpu`` runs the same code path on the CPU (sizes as small as
you like; no synchronisation count there): that is how its test runs it.
"""
import argparse
import contextlib
import json
import os
import os.path as osp
import statistics
import sys
import warnings
from typing import Callable, Optional

import torch

# Repository root on sys.path so a fresh checkout works without `pip install -e .`.
REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO_ROOT)

from cen_mm.utils.benchmark.memory import step_peak_bytes  # noqa: E402
from cen_mm.utils.benchmark.model_pair import (ModelPair,  # noqa: E402
                                               set_exchange_fraction)
from cen_mm.utils.benchmark.timing import (median_ratio,  # noqa: E402
                                           median_ratio_interval, synchronize,
                                           time_alternating)

DEFAULT_CONFIGS = ('configs/_base_/models/cen_refinenet_r101.py',
                   'configs/_base_/models/cen_pspnet_r101.py',
                   # the modern-backbone family (MultiStreamBackbone around MiT-B2)
                   'configs/cen/modern/cen_segformer_mit-b2_nyud_rgbd.py')
SYNC_WARNING = 'called a synchronizing CUDA operation'
MIB = 2**20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='GPU step time, peak memory and synchronisations of CEN models '
        'against the same network run as one stream (the compute floor).')
    parser.add_argument('--config', nargs='+', default=list(DEFAULT_CONFIGS),
                        help='CENEncoderDecoder configs with a CENResNet or '
                        'MultiStreamBackbone backbone (default: RefineNet-R101, '
                        'PSPNet-R101, SegFormer-MiT-B2)')
    parser.add_argument('--device', default='cuda',
                        help="'cuda[:i]' (default) or 'cpu' (the same code path)")
    parser.add_argument('--size', type=int, default=480, help='input side (pixels)')
    parser.add_argument('--batch', type=int, default=2, help='N, per stream')
    parser.add_argument('--iters', type=int, default=20, help='timed rounds')
    parser.add_argument('--warmup', type=int, default=5, help='untimed rounds')
    parser.add_argument('--exchange-frac', type=float, default=0.2,
                        help='fraction of each stream\'s sub-part set below θ')
    parser.add_argument('--phases', nargs='+', default=['train', 'infer'],
                        choices=['train', 'infer'])
    parser.add_argument('--streams', type=int, default=None,
                        help='M streams (repeating the config\'s modalities)')
    parser.add_argument('--backbone-only', action='store_true',
                        help='the backbones alone (loss: the mean of their outputs)')
    parser.add_argument('--amp', action='store_true',
                        help='bfloat16 autocast for forwards and losses')
    parser.add_argument('--check', action='store_true',
                        help='first check the device against the CPU (see above)')
    parser.add_argument('--compile', default=None, metavar='BACKEND',
                        help='torch.compile both models with this backend')
    parser.add_argument('--json', default=None, help='also write the rows here')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for name in ('size', 'batch', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1, got {getattr(args, name)}')
    if args.warmup < 0 or not 0 <= args.exchange_frac <= 1:
        parser.error('--warmup must be >= 0 and --exchange-frac in [0, 1]')
    if args.streams is not None and args.streams < 2:
        parser.error(f'--streams must be >= 2, got {args.streams}')
    return args


@contextlib.contextmanager
def count_syncs(device: torch.device):
    """Count host-device synchronisations in the block: yields a one-element list
    that holds the count afterwards (None where the device has no such mode)."""
    result = [None]
    if device.type != 'cuda':
        yield result
        return
    previous = torch.cuda.get_sync_debug_mode()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            yield result
        finally:
            torch.cuda.set_sync_debug_mode(previous)
    result[0] = sum(SYNC_WARNING in str(w.message) for w in caught)


def measure_step(step: Callable[[], None], device: torch.device) -> dict:
    """Peak memory (bytes above the level before the step) and synchronisations of
    one call of ``step``."""
    peak = step_peak_bytes(step, device)
    synchronize(device)
    with count_syncs(device) as syncs:
        step()
    synchronize(device)
    return dict(peak_bytes=peak, syncs=syncs[0])


def device_name(device: torch.device) -> str:
    if device.type == 'cuda':
        return torch.cuda.get_device_name(device)
    return f'CPU ({os.cpu_count()} cores, {torch.get_num_threads()} threads)'


def resolve_config(path: str) -> tuple:
    """(file, name) of a ``--config`` given as a path or relative to the repository."""
    full = path if osp.isfile(path) else osp.join(REPO_ROOT, path)
    if not osp.isfile(full):
        raise FileNotFoundError(f'--config {path}: no such file')
    return full, osp.splitext(osp.basename(path))[0]


def benchmark_config(path: str, args, device: torch.device) -> list:
    from mmengine.config import Config
    full, name = resolve_config(path)
    pair = ModelPair(name, Config.fromfile(full).model.to_dict(), args.backbone_only,
                     args.streams, args.batch, args.size, device, args.seed)
    pair.amp = args.amp
    exchanged = set_exchange_fraction(pair.cen, args.exchange_frac, args.seed)
    if args.compile:
        pair.compile(args.compile)
    rows = []
    for phase in args.phases:
        pair.set_mode(phase)
        make = pair.train_step if phase == 'train' else pair.infer_step
        steps = dict(cen=make('cen'), floor=make('floor'))
        times = time_alternating(steps, args.warmup, args.iters, device)
        row = dict(config=name, streams=pair.num_streams, phase=phase,
                   exchanged=exchanged)
        for key, step in steps.items():
            row[key] = dict(seconds=statistics.median(times[key]['wall']),
                            **measure_step(step, device))
        row['time_ratio'] = row['cen']['seconds'] / row['floor']['seconds']
        row['paired_ratio'] = median_ratio(times['cen']['wall'],
                                           times['floor']['wall'])
        row['paired_interval'] = median_ratio_interval(times['cen']['wall'],
                                                       times['floor']['wall'])
        row['memory_ratio'] = (row['cen']['peak_bytes']
                               / max(row['floor']['peak_bytes'], 1))
        rows.append(row)
        print_row(row)
    del pair
    if device.type == 'cuda':
        torch.cuda.empty_cache()
    return rows


HEADER = ('| model | M | phase | exchanged | CEN (s/step) | floor (s/step) | ratio | '
          'paired ratio (95 % interval) | CEN peak (MiB) | floor peak (MiB) | ratio | '
          'CEN syncs | floor syncs |')


def _syncs(value: Optional[int]) -> str:
    return '-' if value is None else str(value)


def print_row(row: dict) -> None:
    cen, floor = row['cen'], row['floor']
    cells = [row['config'], str(row['streams']), row['phase'],
             f'{100 * row["exchanged"]:.1f}%', f'{cen["seconds"]:.4f}',
             f'{floor["seconds"]:.4f}', f'{row["time_ratio"]:.3f}',
             '{:.3f} ({:.3f}-{:.3f})'.format(row['paired_ratio'],
                                             *row['paired_interval']),
             f'{cen["peak_bytes"] / MIB:,.0f}',
             f'{floor["peak_bytes"] / MIB:,.0f}', f'{row["memory_ratio"]:.3f}',
             _syncs(cen['syncs']), _syncs(floor['syncs'])]
    print('| ' + ' | '.join(cells) + ' |', flush=True)


CHECK_SIZE = 64  # input side of --check (the CPU runs the same steps, also in float64)
CHECK_TOLERANCE = 1e-3  # float32 against float64 on any kernels lands far below it
CHECK_ROUNDING_FACTOR = 10  # ...or within this factor of the CPU's own float32 error


def check_passes(device_error: float, cpu_error: float) -> bool:
    """The device's relative error to the float64 reference is rounding: below the
    tolerance, or within a small factor of the CPU's float32 error (NaN fails)."""
    return (device_error < CHECK_TOLERANCE
            or device_error <= CHECK_ROUNDING_FACTOR * cpu_error)


def run_checks(args, device: torch.device) -> bool:
    """``--check``: print the device-against-CPU tables; True if everything matches."""
    from mmengine.config import Config
    from cen_mm.utils.benchmark.device_check import (compare_exchange_paths,
                                                     compare_with_cpu)
    ok = True
    for streams in (2, 3):
        equal = compare_exchange_paths(device, streams, args.seed)
        ok &= equal
        print(f'exchange on {device.type}, M={streams}: sync-free and indexed paths '
              f'{"bit-identical" if equal else "DIFFER"} (values and gradients)')
    print(f'\nRelative errors to float64 on the CPU, {device.type} float32 / CPU '
          f'float32:\n\n| model | M | exchanged | logits | loss | all gradients | '
          f'worst parameter\'s gradient | at | matches |\n'
          f'|---|---|---|---|---|---|---|---|---|')
    for path in args.config:
        full, name = resolve_config(path)
        result = compare_with_cpu(name, Config.fromfile(full).model.to_dict(), device,
                                  args.backbone_only, args.streams, batch=2,
                                  size=CHECK_SIZE, exchange_frac=args.exchange_frac,
                                  seed=args.seed)
        dev, cpu = result['device'], result['cpu']
        keys = ('logits', 'loss', 'grads', 'grad')
        matches = all(check_passes(dev[k], cpu[k]) for k in keys)
        ok &= matches
        print(f'| {name} | {args.streams or "cfg"} | {100 * result["exchanged"]:.1f}% | '
              + ' | '.join(f'{dev[k]:.1e} / {cpu[k]:.1e}' for k in keys)
              + f' | {result["grad_name"]} | {"yes" if matches else "NO"} |',
              flush=True)
    print(f'\n({device_name(device)}, no TF32, {CHECK_SIZE} px, batch 2; an error '
          f'matches below {CHECK_TOLERANCE:g} or within {CHECK_ROUNDING_FACTOR}x the '
          f'CPU float32 error)\n')
    return ok


def main(argv=None) -> list:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available on this machine '
                           '(use --device cpu to run the CPU code path)')
    from mmengine.registry import DefaultScope, init_default_scope
    import cen_mm  # noqa: F401  (registers the CEN modules)
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmseg':
        init_default_scope('mmseg')
    print(f'# CEN GPU benchmark: {device_name(device)}, torch {torch.__version__}, '
          f'batch {args.batch} per stream, {args.size}x{args.size}, {args.warmup} '
          f'warm-up + {args.iters} timed rounds'
          + (f', torch.compile(backend={args.compile!r})' if args.compile else '')
          + '\n')
    if args.check and not run_checks(args, device):
        raise SystemExit('--check: the device does not match the CPU (table above)')
    print(HEADER)
    print('|' + '---|' * HEADER.count(' | ') + '---|', flush=True)
    rows = []
    for path in args.config:
        rows += benchmark_config(path, args, device)
    if args.json:
        tmp = args.json + '.tmp'
        with open(tmp, 'w') as f:
            json.dump(dict(args=vars(args), device=device_name(device),
                           torch=torch.__version__, rows=rows), f, indent=1)
        os.replace(tmp, args.json)  # atomic
        print(f'\nmeasurements written to {args.json}')
    return rows


if __name__ == '__main__':
    main()
