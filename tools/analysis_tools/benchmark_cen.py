"""Benchmark CEN against its compute floor: the same network as one stream.

    python tools/analysis_tools/benchmark_cen.py [--config CFG [CFG ...]]
        [--backbone-only] [--streams M] [--batch N] [--size S] [--iters K]
        [--warmup W] [--device cpu|cuda] [--threads T] [--exchange-fracs F [F ...]]
        [--phases train infer] [--no-memory] [--no-hooks] [--no-data]
        [--data-root DIR] [--profile [--profile-steps P]] [--amp]
        [--compile BACKEND] [--json OUT]

What is compared. CEN shares every convolution between its M streams, which are
stacked along the batch dimension, so an M-stream CEN model on a batch of N does the
arithmetic of *one* ordinary network on a batch of M*N (the compute floor); everything
above that is overhead of the implementation (private norms, channel exchange, stream
stacking, per-stream losses and the ensemble). For each model config the tool builds

* **CEN**: the config's model (``CENEncoderDecoder`` + ``CENResNet`` or
  ``MultiStreamBackbone``; with ``--backbone-only`` its backbone), M streams, input
  (N, sum C_m, S, S);
* **floor**: the same config with one stream of L = lcm(C_m) channels (the channels the
  shared first layer sees in CEN): for ``CENResNet``, ``exchange=False`` and every
  ``ModalityNorm`` replaced by its single plain norm layer (``nn.BatchNorm2d``); for
  ``MultiStreamBackbone``, its inner backbone config built as the stock mmseg /
  mmpretrain backbone (MiT, Swin, ConvNeXt, ...: its own norm layers, no wrapper); in
  mmseg's plain ``EncoderDecoder`` (one decode / auxiliary head call, one loss per
  head), input (M*N, L, S, S); labels repeated M times.

Both are built from the same seed, so their convs have the same weights, and do the
same convolutions and matmuls: the tool counts them with
``torch.utils.flop_counter.FlopCounterMode`` and prints both counts. (CEN adds only
elementwise work: exchange, the ensemble and one more loss — the ensemble's.)

Measured, per phase:

* **train**: ``zero_grad`` + forward (``mode='loss'``) + backward + ``SGD.step``
  (momentum 0.9, weight decay 1e-5, a tiny learning rate so that the exchanged
  fraction stays fixed);
* **infer**: forward under ``torch.no_grad`` (``mode='tensor'``: CEN returns every
  stream's logits and the ensemble).

Timing: ``--warmup`` rounds, then ``--iters`` rounds; each round runs one step of each
model, alternating which goes first, in one process, so that both see the same load
on a shared machine. Reported for the wall clock and for the process CPU time (which
leaves out the time the process waits for a core; with ``--threads 1`` it is the
steadier of the two on a shared machine): median time per step of each, the ratio of
the medians and the median of the per-round ratios (more robust when the load
changes) with their interquartile range (the noise of single rounds: on a machine
shared with other jobs, a few percent) and, in brackets, the 95 % bootstrap interval of
that median (how precisely the rounds pin it down; it narrows with more ``--iters``:
about ±1 % at 60 rounds on the 2-core machine). A target such as "≤ 1.05" is shown
when the interval's upper end is within it. Separate processes differ by more than
one process's interval (±1–2 % on the 2-core machine): ``--processes K`` runs the
whole command K times, one process after the other, and adds a pooled table (each
process's paired ratio, the median of all rounds' ratios, and a 95 % interval that
resamples the processes and then their rounds). ``--profile`` adds an estimate that the
convolutions' timing noise does not blur: the profiled self time of all ops other than convolutions/matmuls (which do the
same work in both models), CEN minus floor, relative to the floor's step.

``--amp``: forwards (and the losses) under ``torch.autocast`` in bfloat16 (CPU and
CUDA), backward outside it, for both models. ``--compile BACKEND``: both models are
compiled directly with ``torch.compile(model, backend=BACKEND)`` (not through the
Runner); the warm-up rounds include the compilation (use ``--warmup`` >= 2: training
and inference compile separately), and the compiled CEN is compared with the compiled
floor. ``aot_eager`` traces forward and backward graphs and runs them with eager
kernels (no code generation: it shows graph breaks and tracing overhead, quickly);
``inductor`` generates fused kernels (needs a C++ compiler on CPU; compiling a
ResNet-101 takes minutes).

Peak memory, per step, with the model, its inputs, gradients (kept allocated:
``zero_grad(set_to_none=False)``) and optimizer state already allocated:

* CPU: the PyTorch CPU allocator's bytes in use, integrated over the allocation and
  free events that ``torch.profiler`` records with ``profile_memory=True``
  (deterministic; unaffected by the malloc arena's caching, unlike RSS). Only tensors
  are counted (not the interpreter, and not scratch space that libraries allocate
  outside the PyTorch allocator).
* CUDA: ``torch.cuda.max_memory_allocated`` after ``reset_peak_memory_stats``.

"step peak" is the peak above what was allocated before the step (activations and
temporaries); "total" adds the parameters, buffers, gradients and optimizer state.

``--exchange-fracs``: with the default initialisation (γ = 1) nothing is exchanged.
For a fraction F > 0, F of each stream's own sub-part of every exchanging norm gets
|γ| = θ/2, so those channels are exchanged (the realistic case after sparsity
training); the table reports the measured exchanged fraction.

Also reported (unless ``--no-hooks`` / ``--no-data``): the per-iteration cost of
``CENSparsityHook`` (its optimizer pre-hook and its logging statistics) and of
``ExchangeStatsHook`` (one record, amortised over its interval), and the throughput of
the NYUDv2 RGB-D training pipeline (``configs/_base_/datasets/nyud_rgbd.py``, its
batch size and default number of workers) on ``--data-root`` (a converted NYUDv2, see
``tools/dataset_converters/nyud.py``) or, by default, on synthetic 640x480 files
written to a temporary folder.

This script is the command line and the tables; the measurements are importable from
``cen_mm.utils.benchmark`` (``model_pair``, ``comparison``, ``timing``, ``memory``,
``profiling``, ``hooks_cost``, ``data_throughput``).
"""
import argparse
import copy
import json
import os
import os.path as osp
import sys
import tempfile
from typing import List

import torch
from mmengine.config import DictAction

# Repository root on sys.path so a fresh checkout works without `pip install -e .`.
REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO_ROOT)

from cen_mm.utils.benchmark.comparison import compare_pair  # noqa: E402
from cen_mm.utils.benchmark.data_throughput import (  # noqa: E402,F401
    measure_loader_throughput, write_synthetic_nyud)
from cen_mm.utils.benchmark.hooks_cost import measure_hook_costs  # noqa: E402
from cen_mm.utils.benchmark.memory import (  # noqa: E402,F401
    cpu_step_peak_bytes, quiet_profiler, static_bytes, step_peak_bytes)
from cen_mm.utils.benchmark.model_pair import (  # noqa: E402,F401
    FLOOR_BUILDERS, ModelPair, forward_flops, set_exchange_fraction)
from cen_mm.utils.benchmark.profiling import (  # noqa: E402
    CONV_OP, profile_self_times, self_time_attribute, split_conv_time)
from cen_mm.utils.benchmark.timing import (  # noqa: E402,F401
    median_ratio, synchronize, time_alternating)

DEFAULT_CONFIGS = ('configs/_base_/models/cen_refinenet_r101.py',
                   'configs/_base_/models/cen_pspnet_r101.py')
NYUD_DATASET_CONFIG = 'configs/_base_/datasets/nyud_rgbd.py'
# Used when no model config is available: the CEN-R101 encoder of the papers.
FALLBACK_BACKBONE = dict(type='CENResNet', depth=101, in_channels=(3, 1),
                         norm_cfg=dict(type='BN', requires_grad=True), norm_eval=True,
                         exchange=True, exchange_threshold=2e-2,
                         exchange_mode='subpart')
MIB = 2**20


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Time and memory of a CEN model against the same network run as '
        'one stream at batch M*N (the compute floor).')
    parser.add_argument(
        '--config', nargs='+', default=None,
        help='model config(s) (a CENEncoderDecoder with a CENResNet or '
        'MultiStreamBackbone backbone). '
        f'Default: {", ".join(DEFAULT_CONFIGS)} if present, else a CENResNet-101 '
        'backbone alone')
    parser.add_argument('--backbone-only', action='store_true',
                        help='benchmark only the config\'s backbone (loss: sum of '
                        'the means of its outputs)')
    parser.add_argument('--streams', type=int, default=None,
                        help='M; default: the config\'s (len(backbone.in_channels)); '
                        'other values repeat the config\'s modalities cyclically')
    parser.add_argument('--batch', type=int, default=2, help='N, per stream')
    parser.add_argument('--size', type=int, default=96, help='input side S (pixels)')
    parser.add_argument('--iters', type=int, default=4,
                        help='timed rounds per phase (one step of each model)')
    parser.add_argument('--warmup', type=int, default=1,
                        help='untimed rounds per phase before the timed ones')
    parser.add_argument('--device', default='cpu', help="'cpu' or 'cuda[:i]'")
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch\'s choice). On a '
                        'machine shared with other jobs, 1 gives the steadiest ratios')
    parser.add_argument('--exchange-fracs', type=float, nargs='+', default=[0.0, 0.4],
                        help='fractions of each stream\'s sub-part set below θ')
    parser.add_argument('--phases', nargs='+', default=['train', 'infer'],
                        choices=['train', 'infer'])
    parser.add_argument('--no-memory', action='store_true',
                        help='skip the peak-memory measurement')
    parser.add_argument('--no-models', action='store_true',
                        help='skip the model benchmarks (e.g. to measure only the data '
                        'pipeline)')
    parser.add_argument('--no-hooks', action='store_true',
                        help='skip the sparsity / statistics hook timing')
    parser.add_argument('--no-data', action='store_true',
                        help='skip the data pipeline throughput')
    parser.add_argument('--data-root', default=None,
                        help='converted NYUDv2 (images/, depth/, annotations/) for '
                        'the pipeline throughput; default: synthetic files')
    parser.add_argument('--data-batches', type=int, default=10,
                        help='timed batches of the data pipeline')
    parser.add_argument('--profile', action='store_true',
                        help='also profile the steps (torch.profiler) and report the '
                        'self time of convolutions/matmuls and of all other ops: the '
                        'overhead estimate that timing noise of the convolutions does '
                        'not blur')
    parser.add_argument('--profile-steps', type=int, default=2,
                        help='profiled steps of each model per phase (--profile)')
    parser.add_argument('--json', default=None,
                        help='also write every measurement (per-round times, memory) '
                        'to this JSON file')
    parser.add_argument('--amp', action='store_true',
                        help='forwards under torch.autocast in bfloat16 (CPU or CUDA)')
    parser.add_argument('--compile', default=None, metavar='BACKEND',
                        help='torch.compile both models with this backend (e.g. '
                        'aot_eager, inductor) and compare the compiled models')
    parser.add_argument('--processes', type=int, default=1, metavar='K',
                        help='run the whole measurement K times, in separate processes '
                        'one after the other, and pool their rounds: the pooled 95%% '
                        'interval resamples processes and rounds, so it also covers '
                        'how much processes differ (hooks and data: first process only)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default=None,
                        help='override settings of every --config (mmengine style), '
                        'e.g. model.backbone.exchange_mode=all to measure the '
                        "exchange over all channels (the built-in backbone's keys are "
                        'under model.)')
    args = parser.parse_args(argv)
    for name in ('batch', 'size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1, got {getattr(args, name)}')
    if args.processes < 1:
        parser.error(f'--processes must be >= 1, got {args.processes}')
    if args.processes > 1 and args.no_models:
        parser.error('--processes pools the model rounds; it needs the models '
                     '(drop --no-models)')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.streams is not None and args.streams < 2:
        parser.error(f'--streams must be >= 2 (CEN exchanges between streams), got '
                     f'{args.streams}')
    if any(not 0 <= f <= 1 for f in args.exchange_fracs):
        parser.error(f'--exchange-fracs must be in [0, 1], got {args.exchange_fracs}')
    return args


# ---- tables -------------------------------------------------------------------------
TIME_HEADER = ('| sub-part γ<θ | exchanged | phase | CEN wall (s/step) | floor wall '
               '(s/step) | ratio | paired ratio (IQR) [95% CI] | CEN CPU (s/step) | '
               'floor CPU (s/step) | ratio | paired ratio (IQR) [95% CI] |')
MEMORY_HEADER = ('| sub-part γ<θ | exchanged | phase | CEN step peak (MiB) | floor step '
                 'peak (MiB) | ratio | CEN total (MiB) | floor total (MiB) | ratio |')


def fmt_mib(num_bytes: float) -> str:
    return f'{num_bytes / MIB:,.0f}'


def print_header(header: str) -> None:
    print(header)
    print('|' + '---|' * header.count(' | ') + '---|')


def _row_start(row: dict) -> List[str]:
    return [f'{100 * row["sub_frac"]:.0f}%', f'{100 * row["frac"]:.1f}%', row['phase']]


def print_time_row(row: dict, device: torch.device) -> None:
    cells = _row_start(row)
    for clock in ('wall', 'cpu'):
        if clock == 'cpu' and device.type == 'cuda':
            cells += ['-'] * 4  # host CPU time says nothing about GPU work
            continue
        t = row[clock]
        low, high = t['quartiles']
        ci_low, ci_high = t['interval']
        cells += [f'{t["cen"]:.3f}', f'{t["floor"]:.3f}',
                  f'{t["cen"] / t["floor"]:.3f}',
                  f'{t["paired"]:.3f} ({low:.2f}-{high:.2f}) '
                  f'[{ci_low:.3f}-{ci_high:.3f}]']
    print('| ' + ' | '.join(cells) + ' |', flush=True)


def print_memory_row(row: dict) -> None:
    cs, fs = row['cen_step_mem'], row['floor_step_mem']
    ct, ft = cs + row['cen_static_mem'], fs + row['floor_static_mem']
    cells = _row_start(row) + [fmt_mib(cs), fmt_mib(fs), f'{cs / max(fs, 1):.3f}',
                               fmt_mib(ct), fmt_mib(ft), f'{ct / max(ft, 1):.3f}']
    print('| ' + ' | '.join(cells) + ' |', flush=True)


def benchmark_pair(pair: ModelPair, args, device: torch.device) -> List[dict]:
    """Time (and measure the memory of) every exchange fraction and phase; print the
    time table as it goes and the memory table at the end."""
    rows = []
    print_header(TIME_HEADER)
    for row in compare_pair(pair, args.exchange_fracs, args.phases, args.warmup,
                            args.iters, args.seed, device,
                            memory=not args.no_memory):
        rows.append(row)
        print_time_row(row, device)
    if not args.no_memory:
        print()
        print_header(MEMORY_HEADER)
        for row in rows:
            print_memory_row(row)
    return rows


def profile_overhead(pair: ModelPair, args, device: torch.device) -> None:
    """Profiled self time of conv/matmul ops and of all other ops, CEN and floor
    (``cen_mm.utils.benchmark.profiling``); "overhead" = (CEN other ops - floor other
    ops) / floor total."""
    attr = self_time_attribute(device)
    print(f'\n### Profiled self time ({attr}, {args.profile_steps} steps of each model, '
          'alternating)\n')
    print('| sub-part γ<θ | phase | CEN conv/matmul (ms) | floor conv/matmul (ms) | '
          'CEN other ops (ms) | floor other ops (ms) | overhead |')
    print('|---|---|---|---|---|---|---|')
    details = []
    for frac in args.exchange_fracs:
        set_exchange_fraction(pair.cen, frac, args.seed)
        for phase in args.phases:
            pair.set_mode(phase)
            make = pair.train_step if phase == 'train' else pair.infer_step
            totals = profile_self_times(dict(cen=make('cen'), floor=make('floor')),
                                        args.profile_steps, device)
            (cc, co), (fc, fo) = (split_conv_time(totals['cen']),
                                  split_conv_time(totals['floor']))
            print(f'| {100 * frac:.0f}% | {phase} | {cc:.0f} | {fc:.0f} | {co:.0f} | '
                  f'{fo:.0f} | {(co - fo) / (fc + fo):+.1%} |', flush=True)
            details.append((frac, phase, totals))
    for frac, phase, totals in details:
        cen, floor = totals['cen'], totals['floor']
        ops = [k for k in set(cen) | set(floor) if not CONV_OP.search(k)]
        ops.sort(key=lambda k: cen[k] - floor[k], reverse=True)
        print(f'\nLargest differences of other ops, {100 * frac:.0f}% below θ, {phase} '
              '(ms per step, CEN - floor):',
              ', '.join(f'{k} {cen[k] - floor[k]:+.1f}' for k in ops[:10]))


def benchmark_hooks(pair: ModelPair, train_step_seconds: float, args,
                    device: torch.device) -> None:
    """Per-iteration cost of CENSparsityHook and ExchangeStatsHook on the CEN model."""
    import statistics
    cost = measure_hook_costs(pair, max(args.exchange_fracs), max(5, args.iters),
                              args.seed, device)
    interval = cost['stats_interval']
    step_ms = 1e3 * train_step_seconds
    print(f'\n## Hooks: {pair.name}, {cost["num_layers"]} exchanging layers x '
          f'{pair.num_streams} streams (CEN training step {step_ms:.0f} ms)\n')
    print('| hook | work | per call (ms) | calls per iteration | per iteration (ms) | '
          '% of a training step |')
    print('|---|---|---|---|---|---|')
    entries = [
        ('CENSparsityHook', 'optimizer pre-hook: grad += λ·sign(γ̂)', cost['penalty'],
         1.0),
        ('CENSparsityHook', 'penalty statistics (after_train_iter, log_interval=1)',
         cost['stats'], 1.0),
        ('ExchangeStatsHook', f'one record (every interval={interval} iters)',
         cost['record'], 1.0 / interval),
    ]
    for name, work, seconds, per_iter in entries:
        print(f'| {name} | {work} | {1e3 * seconds:.2f} | {per_iter:g} | '
              f'{1e3 * seconds * per_iter:.3f} | '
              f'{100 * seconds * per_iter / train_step_seconds:.3f}% |')
    with_hook = statistics.median(cost['step_with_hook'])
    without_hook = statistics.median(cost['step_without_hook'])
    print(f'\n`optimizer.step()` median with the pre-hook {1e3 * with_hook:.1f} ms, '
          f'without {1e3 * without_hook:.1f} ms (difference '
          f'{1e3 * cost["step_difference"]:.1f} ms, within timing noise if small or '
          'negative)')


def benchmark_data(args) -> None:
    """Throughput of the NYUDv2 RGB-D training dataloader on ``--data-root`` or on
    synthetic files."""
    from mmengine.config import Config
    cfg_path = osp.join(REPO_ROOT, NYUD_DATASET_CONFIG)
    if not osp.isfile(cfg_path):
        print(f'\n(data pipeline skipped: {NYUD_DATASET_CONFIG} not found)')
        return
    loader_cfg = copy.deepcopy(Config.fromfile(cfg_path).train_dataloader)
    tmp = None
    if args.data_root is None:
        tmp = tempfile.TemporaryDirectory(prefix='cen_bench_nyud_')
        data_root = tmp.name
        # enough files for one pass: restarting the workers is not pipeline time
        write_synthetic_nyud(data_root,
                             num=(args.data_batches + 1) * loader_cfg.batch_size)
        source = 'synthetic 640x480 files'
    else:
        data_root = args.data_root
        if not osp.isdir(data_root):
            raise FileNotFoundError(f'--data-root {data_root} is not a directory')
        source = data_root
    try:
        result = measure_loader_throughput(loader_cfg, data_root, args.data_batches,
                                           seed=args.seed)
    finally:
        if tmp is not None:
            tmp.cleanup()
    images, done, restarts = result['images'], result['batches'], result['restarts']
    print(f'\n## Data pipeline: NYUDv2 RGB-D training pipeline ({NYUD_DATASET_CONFIG}) '
          f'on {source}\n')
    print(f'batch size {result["batch_size"]}, num_workers {result["num_workers"]}: '
          f'{images / result["seconds"]:.1f} images/s ({images} images in {done} '
          'batches'
          + (f', {restarts} restarts of the loader on a small dataset' if restarts
             else '') + ') '
          f'(first batch incl. worker start-up: {result["first_batch_seconds"]:.2f} s)')


# ---- main ----------------------------------------------------------------------------
def load_model_cfgs(args) -> List[tuple]:
    """``[(name, model cfg dict)]`` of ``--config`` (or the defaults), each with
    ``--cfg-options`` merged in."""
    from mmengine.config import Config
    paths = args.config
    if paths is None:
        paths = [p for p in DEFAULT_CONFIGS if osp.isfile(osp.join(REPO_ROOT, p))]
    named = []
    for path in paths:
        full = path if osp.isfile(path) else osp.join(REPO_ROOT, path)
        if not osp.isfile(full):
            raise FileNotFoundError(f'--config {path}: no such file')
        cfg = Config.fromfile(full)
        if 'model' not in cfg:  # before --cfg-options, which could create one
            raise KeyError(f'--config {path}: no `model` in the config')
        named.append((osp.splitext(osp.basename(path))[0], cfg))
    if not named:
        named = [('CENResNet-101 backbone (built-in)',
                  Config(dict(model=copy.deepcopy(FALLBACK_BACKBONE))))]
    for _, cfg in named:
        if args.cfg_options:
            cfg.merge_from_dict(args.cfg_options)
    return [(name, cfg.model.to_dict()) for name, cfg in named]


def write_json(path: str, payload: dict) -> None:
    """``payload`` to ``path``, atomically (a partial file never replaces one)."""
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        json.dump(payload, f, indent=1)
    os.replace(tmp, path)
    print(f'\nmeasurements written to {path}')


POOLED_HEADER = ('| model | M | sub-part γ<θ | exchanged | phase | clock | per-process '
                 'paired ratios | pooled paired ratio (IQR) [95% CI] |')


def print_pooled(pooled: List[dict], num: int, device: torch.device) -> None:
    """The table of :func:`cen_mm.utils.benchmark.processes.pool_rows`."""
    print(f'\n## Pooled over {num} processes: paired ratio CEN / floor, 95% interval '
          'resampling processes and then rounds\n')
    print_header(POOLED_HEADER)
    for row in pooled:
        for clock in ('wall', 'cpu'):
            if clock == 'cpu' and device.type == 'cuda':
                continue  # host CPU time says nothing about GPU work
            t = row[clock]
            low, high = t['quartiles']
            ci_low, ci_high = t['interval']
            cells = [row['config'], str(row['streams']), *_row_start(row), clock,
                     ', '.join(f'{r:.3f}' for r in t['per_process']),
                     f'{t["paired"]:.3f} ({low:.2f}-{high:.2f}) '
                     f'[{ci_low:.3f}-{ci_high:.3f}]']
            print('| ' + ' | '.join(cells) + ' |', flush=True)


def main_processes(args, argv) -> None:
    """``--processes K``: the same command in K processes, then the pooled table (and
    ``--json``: every process's results and the pooled rows)."""
    from cen_mm.utils.benchmark.processes import pool_rows, run_separate_processes
    argv = list(sys.argv[1:] if argv is None else argv)
    with tempfile.TemporaryDirectory(prefix='cen_bench_processes_') as workdir:
        results = run_separate_processes([sys.executable, osp.abspath(__file__)] + argv,
                                         args.processes, workdir,
                                         after_first=['--no-hooks', '--no-data'])
    pooled = pool_rows(results)
    print_pooled(pooled, args.processes, torch.device(args.device))
    if args.json:
        write_json(args.json, dict(args=vars(args), processes=results, pooled=pooled))


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.processes > 1:
        return main_processes(args, argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope
    import cen_mm  # noqa: F401  (registers the CEN modules)
    from cen_mm.ops import stream_layer_norm as fused_ops
    init_default_scope('mmseg')

    print(f'# CEN benchmark: torch {torch.__version__}, device {device}, '
          f'{torch.get_num_threads()} threads, batch {args.batch} per stream, '
          f'{args.size}x{args.size}, {args.warmup} warm-up + {args.iters} timed rounds'
          + (', bfloat16 autocast' if args.amp else '')
          + (f', torch.compile(backend={args.compile!r})' if args.compile else ''))
    # ModalityLayerNorm's C++ op (CPU, eager, float32), cen_mm/ops/stream_layer_norm.py
    fused_layer_norm = fused_ops.status() if device.type == 'cpu' else 'off (not CPU)'
    print(f'fused stream LayerNorm op: {fused_layer_norm}')
    hooks_done = args.no_hooks
    results = []
    for name, model_cfg in ([] if args.no_models else load_model_cfgs(args)):
        backbone_only = args.backbone_only or model_cfg.get('type') in FLOOR_BUILDERS
        pair = ModelPair(name, model_cfg, backbone_only, args.streams, args.batch,
                         args.size, device, args.seed)
        pair.amp = args.amp
        what = 'backbone' if backbone_only else 'model'
        print(f'\n## {name} ({what}): M={pair.num_streams} streams x batch {args.batch} '
              f'vs one stream x batch {pair.num_streams * args.batch}\n')
        pair.set_mode('infer')
        flops = {key: forward_flops(pair.infer_step(key)) for key in ('cen', 'floor')}
        print(f'conv/matmul FLOPs per forward: CEN {flops["cen"] / 1e9:.2f} G, floor '
              f'{flops["floor"] / 1e9:.2f} G'
              + (' (identical)\n' if flops['cen'] == flops['floor'] else '\n'))
        if args.compile:  # after the FLOP count (eager: same convolutions)
            pair.compile(args.compile)
        rows = benchmark_pair(pair, args, device)
        results.append(dict(config=name, backbone_only=backbone_only,
                            streams=pair.num_streams, flops=flops, rows=rows))
        if args.profile:
            profile_overhead(pair, args, device)
        train_rows = [r for r in rows if r['phase'] == 'train']
        if not hooks_done and train_rows:
            benchmark_hooks(pair, train_rows[-1]['wall']['cen'], args, device)
            hooks_done = True
        del pair
    if not args.no_data:
        benchmark_data(args)
    if args.json:
        write_json(args.json, dict(args=vars(args), torch=torch.__version__,
                                   fused_layer_norm=fused_layer_norm,
                                   threads=torch.get_num_threads(), results=results))


if __name__ == '__main__':
    main()
