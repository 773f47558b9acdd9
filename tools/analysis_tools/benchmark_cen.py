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
changes) with their interquartile range (the noise: on a machine shared with other
jobs, a few percent even for 8+ rounds). ``--profile`` adds an estimate that the convolutions' timing noise does not
blur: the profiled self time of all ops other than convolutions/matmuls (which do the
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
"""
import argparse
import collections
import contextlib
import copy
import json
import math
import os
import os.path as osp
import re
import statistics
import sys
import tempfile
import time
from typing import Callable, Dict, List, Optional, Sequence

import torch
import torch.nn as nn

# Repository root on sys.path so a fresh checkout works without `pip install -e .`.
REPO_ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))
sys.path.insert(0, REPO_ROOT)

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
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args(argv)
    for name in ('batch', 'size', 'iters'):
        if getattr(args, name) < 1:
            parser.error(f'--{name} must be >= 1, got {getattr(args, name)}')
    if args.warmup < 0:
        parser.error(f'--warmup must be >= 0, got {args.warmup}')
    if args.streams is not None and args.streams < 2:
        parser.error(f'--streams must be >= 2 (CEN exchanges between streams), got '
                     f'{args.streams}')
    if any(not 0 <= f <= 1 for f in args.exchange_fracs):
        parser.error(f'--exchange-fracs must be in [0, 1], got {args.exchange_fracs}')
    return args


# ---- devices and timing --------------------------------------------------------------
def synchronize(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_alternating(steps: Dict[str, Callable[[], None]], warmup: int, iters: int,
                     device: torch.device) -> Dict[str, Dict[str, List[float]]]:
    """Wall-clock and process CPU seconds per call of every step, over ``iters``
    rounds after ``warmup``: ``{name: {'wall': [...], 'cpu': [...]}}``.

    Every round calls each step once; the order is reversed every other round, so
    that neither model always runs right after the other one.
    """
    names = list(steps)
    times = {name: dict(wall=[], cpu=[]) for name in names}
    for round_idx in range(warmup + iters):
        order = names if round_idx % 2 == 0 else names[::-1]
        for name in order:
            synchronize(device)
            wall, cpu = time.perf_counter(), time.process_time()
            steps[name]()
            synchronize(device)
            if round_idx >= warmup:
                times[name]['wall'].append(time.perf_counter() - wall)
                times[name]['cpu'].append(time.process_time() - cpu)
    return times


# Lines the profiler back-end (kineto) writes to stderr on every start/stop, and its
# complaint on a machine without a GPU: noise between the tables, nothing to act on.
_KINETO_NOISE = re.compile(r'^(USDT:|ERROR:.*gpuGetDeviceCount)')


@contextlib.contextmanager
def quiet_profiler():
    """Run the block with stderr (file descriptor 2, which kineto writes to from C++)
    captured; afterwards write back every captured line except kineto's noise."""
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode='w+b') as captured:
        os.dup2(captured.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for line in captured.read().decode(errors='replace').splitlines():
                if not _KINETO_NOISE.match(line):
                    print(line, file=sys.stderr)


def cpu_step_peak_bytes(step: Callable[[], None]) -> int:
    """Peak bytes in use by the PyTorch CPU allocator during ``step``, above the level
    at its start: the running sum of the allocation (+) and free (-) events that
    ``torch.profiler`` records with ``profile_memory=True``, in time order."""
    from torch.profiler import ProfilerActivity, profile
    with quiet_profiler(), profile(activities=[ProfilerActivity.CPU],
                                   profile_memory=True) as prof:
        step()
    events = [e for e in prof.profiler.kineto_results.events()
              if e.name() == '[memory]' and str(e.device_type()) == 'DeviceType.CPU']
    events.sort(key=lambda e: e.start_ns())
    level = peak = 0
    for event in events:
        level += event.nbytes()
        peak = max(peak, level)
    return peak


def step_peak_bytes(step: Callable[[], None], device: torch.device) -> int:
    if device.type == 'cuda':
        synchronize(device)
        before = torch.cuda.memory_allocated(device)
        torch.cuda.reset_peak_memory_stats(device)
        step()
        synchronize(device)
        return torch.cuda.max_memory_allocated(device) - before
    return cpu_step_peak_bytes(step)


def static_bytes(model: nn.Module, optimizer: Optional[torch.optim.Optimizer],
                 with_grads: bool) -> int:
    """Parameters, buffers, gradients and optimizer state (e.g. SGD momentum) in
    bytes."""
    tensors = {id(t): t for t in list(model.parameters()) + list(model.buffers())}
    if with_grads:
        tensors.update({id(p.grad): p.grad for p in model.parameters()
                        if p.grad is not None})
    if optimizer is not None:
        for state in optimizer.state.values():
            for value in state.values():
                if torch.is_tensor(value):
                    tensors[id(value)] = value
    return sum(t.numel() * t.element_size() for t in tensors.values())


def forward_flops(fn: Callable[[], None]) -> int:
    """Convolution / matmul FLOPs of ``fn`` (torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn()
    return counter.get_total_flops()


# ---- models ---------------------------------------------------------------------------
class FirstStream(nn.Module):
    """A one-stream ``CENResNet`` as an ordinary backbone: returns stream 0's tuple."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return self.backbone(x)[0]


def plain_norms(module: nn.Module) -> nn.Module:
    """Replace every one-stream ``ModalityNorm`` by its plain norm layer (in place)."""
    from cen_mm.core import ModalityNorm
    for name, child in module.named_children():
        if isinstance(child, ModalityNorm):
            if child.num_streams != 1 or child.exchange:
                raise ValueError(f'{name}: expected a one-stream ModalityNorm without '
                                 f'exchange, got {child}')
            setattr(module, name, child.norms[0])
        else:
            plain_norms(child)
    return module


def stream_channels(in_channels, streams: Optional[int]) -> tuple:
    in_channels = (in_channels, ) if isinstance(in_channels, int) else tuple(in_channels)
    if streams is None or streams == len(in_channels):
        return in_channels
    return tuple(in_channels[m % len(in_channels)] for m in range(streams))


def without_pretrained(backbone_cfg: dict) -> dict:
    """The backbone config with no checkpoint to load (random weights)."""
    cfg = dict(backbone_cfg)
    cfg.pop('pretrained', None)
    init_cfg = cfg.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        cfg['init_cfg'] = None
    elif isinstance(init_cfg, (list, tuple)):
        cfg['init_cfg'] = [c for c in init_cfg if c.get('type') != 'Pretrained'] or None
    return cfg


def cen_resnet_floor(backbone_cfg: dict, L: int) -> tuple:
    """``CENResNet``: the floor is the same class with one stream of L channels and no
    exchange, its one-stream ``ModalityNorm``s replaced by their plain norm layers."""
    floor_cfg = dict(backbone_cfg, in_channels=(L, ), exchange=False)
    return backbone_cfg, floor_cfg, lambda m: FirstStream(plain_norms(m))


def multi_stream_floor(backbone_cfg: dict, L: int) -> tuple:
    """``MultiStreamBackbone``: the floor is its inner backbone config built as it
    is, the stock mmseg / mmpretrain backbone with L input channels (no wrapper, its
    own norm layers), which returns the levels of one stream."""
    from cen_mm.models.backbones.multi_stream_backbone import _accepts_in_channels
    inner = without_pretrained(dict(backbone_cfg['backbone']))
    backbone_cfg = dict(backbone_cfg, backbone=inner)
    floor_cfg = dict(inner)
    if _accepts_in_channels(floor_cfg['type']):
        floor_cfg['in_channels'] = L
    return backbone_cfg, floor_cfg, lambda m: m


# backbone type -> (CEN backbone cfg, L) -> (CEN backbone cfg, floor backbone cfg,
# function making the built floor backbone return one stream's levels)
FLOOR_BUILDERS = {
    'CENResNet': cen_resnet_floor,
    'MultiStreamBackbone': multi_stream_floor,
}


class ModelPair:
    """The CEN model and its one-stream floor with inputs, labels and optimizers."""

    def __init__(self, name: str, model_cfg: dict, backbone_only: bool,
                 streams: Optional[int], batch: int, size: int,
                 device: torch.device, seed: int):
        from mmengine.registry import MODELS
        from mmseg.registry import MODELS as SEG_MODELS
        self.name = name
        self.backbone_only = backbone_only
        model_cfg = copy.deepcopy(dict(model_cfg))
        if (backbone_only and 'backbone' in model_cfg
                and model_cfg.get('type') not in FLOOR_BUILDERS):
            model_cfg = dict(model_cfg['backbone'])
        backbone_cfg = model_cfg if backbone_only else dict(model_cfg['backbone'])
        if backbone_cfg.get('type') not in FLOOR_BUILDERS:
            raise ValueError(
                f'{name}: the backbone must be one of {sorted(FLOOR_BUILDERS)} (the '
                f'floor is built from it), got type={backbone_cfg.get("type")!r}')
        in_channels = stream_channels(backbone_cfg.get('in_channels', (3, 1)), streams)
        backbone_cfg = without_pretrained(backbone_cfg)
        backbone_cfg['in_channels'] = in_channels
        self.num_streams = M = len(in_channels)
        L = math.lcm(*in_channels)
        backbone_cfg, floor_backbone_cfg, as_floor = FLOOR_BUILDERS[
            backbone_cfg['type']](backbone_cfg, L)

        if backbone_only:
            torch.manual_seed(seed)
            self.cen = MODELS.build(backbone_cfg)
            torch.manual_seed(seed)
            self.floor = as_floor(MODELS.build(floor_backbone_cfg))
            self.num_classes = None
        else:
            if model_cfg.get('type') != 'CENEncoderDecoder':
                raise ValueError(f'{name}: expected model type CENEncoderDecoder, got '
                                 f'{model_cfg.get("type")!r}')
            if model_cfg.get('neck') is not None:
                raise NotImplementedError(
                    f'{name}: configs with a neck are not supported (the floor needs '
                    'a one-stream equivalent of the neck)')
            model_cfg.pop('pretrained', None)
            cen_cfg = dict(model_cfg, backbone=backbone_cfg)
            floor_cfg = dict(model_cfg, type='EncoderDecoder',
                             backbone=floor_backbone_cfg)
            for key in ('num_streams', 'stack_streams', 'shared_heads', 'head_norms'):
                floor_cfg.pop(key, None)
            floor_cfg['test_cfg'] = {k: v for k, v in
                                     dict(model_cfg.get('test_cfg') or {}).items()
                                     if k != 'output'}
            torch.manual_seed(seed)
            self.cen = SEG_MODELS.build(cen_cfg)
            torch.manual_seed(seed)
            self.floor = SEG_MODELS.build(floor_cfg)
            self.floor.backbone = as_floor(self.floor.backbone)
            self.num_classes = self.cen.decode_head.num_classes
        self.cen.to(device)
        self.floor.to(device)

        gen = torch.Generator().manual_seed(seed)
        self.cen_inputs = torch.randn(batch, sum(in_channels), size, size,
                                      generator=gen).to(device)
        self.floor_inputs = torch.randn(M * batch, L, size, size,
                                        generator=gen).to(device)
        self.cen_samples = self.floor_samples = None
        if not backbone_only:
            self.cen_samples = make_seg_samples(batch, size, self.num_classes, gen,
                                                device)
            self.floor_samples = [copy.deepcopy(s) for _ in range(M)
                                  for s in self.cen_samples]
        self.optimizers = {
            key: torch.optim.SGD(model.parameters(), lr=1e-9, momentum=0.9,
                                 weight_decay=1e-5)
            for key, model in (('cen', self.cen), ('floor', self.floor))}

        # what the steps call: the models, or their torch.compile wrappers
        self.callables = self.models()
        self.amp = False
        self.device = device

    def models(self):
        return dict(cen=self.cen, floor=self.floor)

    def compile(self, backend: str) -> None:
        """Let every step call ``torch.compile(model, backend=backend)`` (compiled on
        the first call of each mode)."""
        self.callables = {key: torch.compile(model, backend=backend)
                          for key, model in self.models().items()}

    def _autocast(self):
        """bfloat16 autocast with ``--amp``, else nothing."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # ---- steps ----------------------------------------------------------------------
    def _loss(self, key: str) -> torch.Tensor:
        with self._autocast():
            return self._forward_loss(key)

    def _forward_loss(self, key: str) -> torch.Tensor:
        model = self.callables[key]
        if self.backbone_only:
            out = model(self.cen_inputs if key == 'cen' else self.floor_inputs)
            levels = [t for stream in out for t in stream] if key == 'cen' else out
            scale = 1 / self.num_streams if key == 'cen' else 1.0
            return sum(t.float().mean() for t in levels) * scale
        inputs = self.cen_inputs if key == 'cen' else self.floor_inputs
        samples = self.cen_samples if key == 'cen' else self.floor_samples
        loss, _ = self.models()[key].parse_losses(model(inputs, samples, mode='loss'))
        return loss

    def train_step(self, key: str) -> Callable[[], None]:
        model, optimizer = self.models()[key], self.optimizers[key]

        def step():
            # gradients stay allocated (zeroed): the step's memory peak is then the
            # activations and temporaries, the gradients count as static memory
            optimizer.zero_grad(set_to_none=False)
            loss = self._loss(key)
            loss.backward()
            optimizer.step()

        return step

    def infer_step(self, key: str) -> Callable[[], None]:
        model = self.callables[key]
        inputs = self.cen_inputs if key == 'cen' else self.floor_inputs

        def step():
            with torch.no_grad(), self._autocast():
                if self.backbone_only:
                    model(inputs)
                else:
                    model(inputs, mode='tensor')

        return step

    def set_mode(self, phase: str) -> None:
        for model in self.models().values():
            model.train(phase == 'train')


def make_seg_samples(batch: int, size: int, num_classes: int, gen: torch.Generator,
                     device: torch.device) -> list:
    """``batch`` SegDataSamples with random labels (5% ignored, 255)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(batch):
        label = torch.randint(0, num_classes, (1, size, size), generator=gen)
        label[torch.rand(1, size, size, generator=gen) < 0.05] = 255
        sample = SegDataSample(metainfo=dict(img_shape=(size, size),
                                             pad_shape=(size, size),
                                             ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label.to(device))
        samples.append(sample)
    return samples


@torch.no_grad()
def set_exchange_fraction(model: nn.Module, frac: float, seed: int) -> float:
    """Put |γ| = θ/2 on ``frac`` of each stream's own sub-part of every exchanging
    norm (γ = 1 elsewhere); return the fraction of (stream, channel) pairs exchanged."""
    from cen_mm.core import iter_exchanging_norms
    gen = torch.Generator().manual_seed(seed)
    exchanged = total = 0
    for _, norm in iter_exchanging_norms(model):
        for m in range(norm.num_streams):
            weight = norm.norms[m].weight
            weight.fill_(1.0)
            owned = norm.owner_mask[m].nonzero().squeeze(1).cpu()
            count = int(round(frac * owned.numel()))
            chosen = owned[torch.randperm(owned.numel(), generator=gen)[:count]]
            weight[chosen.to(weight.device)] = norm.threshold / 2
        mask = norm.exchange_mask()
        exchanged += int(mask.sum())
        total += mask.numel()
    return exchanged / max(total, 1)


# ---- reporting ---------------------------------------------------------------------
def fmt_mib(num_bytes: float) -> str:
    return f'{num_bytes / MIB:,.0f}'


def median_ratio(a: Sequence[float], b: Sequence[float]) -> float:
    return statistics.median(x / y for x, y in zip(a, b))


def ratio_quartiles(a: Sequence[float], b: Sequence[float]) -> tuple:
    """First and third quartile of the per-round ratios (their spread is the noise)."""
    ratios = [x / y for x, y in zip(a, b)]
    if len(ratios) < 2:
        return ratios[0], ratios[0]
    q = statistics.quantiles(ratios, n=4, method='inclusive')
    return q[0], q[2]


def benchmark_pair(pair: ModelPair, args, device: torch.device) -> List[dict]:
    """Time (and measure the memory of) every exchange fraction and phase; print the
    time table as it goes and the memory table at the end."""
    rows = []
    print(TIME_HEADER)
    print('|' + '---|' * TIME_HEADER.count(' | ') + '---|')
    for frac in args.exchange_fracs:
        measured = set_exchange_fraction(pair.cen, frac, args.seed)
        for phase in args.phases:
            pair.set_mode(phase)
            make = pair.train_step if phase == 'train' else pair.infer_step
            steps = dict(cen=make('cen'), floor=make('floor'))
            times = time_alternating(steps, args.warmup, args.iters, device)
            row = dict(sub_frac=frac, frac=measured, phase=phase, times=times)
            for clock in ('wall', 'cpu'):
                cen, floor = times['cen'][clock], times['floor'][clock]
                row[clock] = dict(cen=statistics.median(cen),
                                  floor=statistics.median(floor),
                                  paired=median_ratio(cen, floor),
                                  quartiles=ratio_quartiles(cen, floor))
            if not args.no_memory:
                for key in ('cen', 'floor'):
                    row[f'{key}_step_mem'] = step_peak_bytes(steps[key], device)
                    row[f'{key}_static_mem'] = static_bytes(
                        pair.models()[key],
                        pair.optimizers[key] if phase == 'train' else None,
                        with_grads=phase == 'train')
            rows.append(row)
            print_time_row(row, device)
    if not args.no_memory:
        print('\n' + MEMORY_HEADER)
        print('|' + '---|' * MEMORY_HEADER.count(' | ') + '---|')
        for row in rows:
            print_memory_row(row)
    return rows


TIME_HEADER = ('| sub-part γ<θ | exchanged | phase | CEN wall (s/step) | floor wall '
               '(s/step) | ratio | paired ratio (IQR) | CEN CPU (s/step) | floor CPU '
               '(s/step) | ratio | paired ratio (IQR) |')
MEMORY_HEADER = ('| sub-part γ<θ | exchanged | phase | CEN step peak (MiB) | floor step '
                 'peak (MiB) | ratio | CEN total (MiB) | floor total (MiB) | ratio |')


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
        cells += [f'{t["cen"]:.3f}', f'{t["floor"]:.3f}',
                  f'{t["cen"] / t["floor"]:.3f}',
                  f'{t["paired"]:.3f} ({low:.2f}-{high:.2f})']
    print('| ' + ' | '.join(cells) + ' |', flush=True)


def print_memory_row(row: dict) -> None:
    cs, fs = row['cen_step_mem'], row['floor_step_mem']
    ct, ft = cs + row['cen_static_mem'], fs + row['floor_static_mem']
    cells = _row_start(row) + [fmt_mib(cs), fmt_mib(fs), f'{cs / max(fs, 1):.3f}',
                               fmt_mib(ct), fmt_mib(ft), f'{ct / max(ft, 1):.3f}']
    print('| ' + ' | '.join(cells) + ' |', flush=True)


CONV_OP = re.compile(r'conv|addmm|bmm|matmul|linear|(^|::)mm$')


def profile_overhead(pair: ModelPair, args, device: torch.device) -> None:
    """Self time per op of CEN and floor steps (torch.profiler), split into the
    convolution/matmul ops, whose work is identical in both, and everything else.

    On a noisy machine the convolutions' time varies by several percent from step to
    step and hides a small overhead in the wall-clock ratio; the other ops' self time
    (norms, exchange, copies, losses, optimizer, ...) is where CEN's overhead lives.
    "overhead" = (CEN other ops - floor other ops) / floor total, the ratio CEN would
    have if its convolutions took exactly as long as the floor's.
    """
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    attr = 'self_cpu_time_total'
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
        attr = 'self_device_time_total'
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
            totals = {key: collections.Counter() for key in ('cen', 'floor')}
            for key in ('cen', 'floor'):
                make(key)()  # warm
            for _ in range(args.profile_steps):
                for key in ('cen', 'floor'):
                    with quiet_profiler(), profile(activities=activities) as prof:
                        make(key)()
                    for event in prof.key_averages():
                        totals[key][event.key] += (getattr(event, attr) / 1e3 /
                                                   args.profile_steps)
            split = {}
            for key, per_op in totals.items():
                conv = sum(v for k, v in per_op.items() if CONV_OP.search(k))
                split[key] = (conv, sum(per_op.values()) - conv)
            (cc, co), (fc, fo) = split['cen'], split['floor']
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


# ---- hooks -------------------------------------------------------------------------
def benchmark_hooks(pair: ModelPair, train_step_seconds: float, args,
                    device: torch.device) -> None:
    """Per-iteration cost of CENSparsityHook and ExchangeStatsHook on the CEN model."""
    from mmengine.optim import OptimWrapper
    from cen_mm.engine.hooks import CENSparsityHook, ExchangeStatsHook
    from cen_mm.engine.hooks.exchange_stats_hook import exchange_stats_record

    set_exchange_fraction(pair.cen, max(args.exchange_fracs), args.seed)
    pair.set_mode('train')
    optimizer = pair.optimizers['cen']
    wrapper = OptimWrapper(optimizer)
    hook = CENSparsityHook(lambda_=5e-3)
    stats_interval = ExchangeStatsHook().interval
    # gradients of a real step, so the optimizer step does its real work
    optimizer.zero_grad(set_to_none=True)
    pair._loss('cen').backward()

    def timed(fn, reps):
        values = []
        for _ in range(reps):
            synchronize(device)
            start = time.perf_counter()
            fn()
            synchronize(device)
            values.append(time.perf_counter() - start)
        return statistics.median(values)

    reps = max(5, args.iters)
    hook.attach(pair.cen, wrapper)
    with_hook, without_hook = [], []
    for i in range(2 * reps):  # optimizer.step with / without the pre-hook, alternating
        attached = i % 2 == 0
        if attached:
            hook.attach(pair.cen, wrapper)
        else:
            hook.detach()
        synchronize(device)
        start = time.perf_counter()
        optimizer.step()
        synchronize(device)
        (with_hook if attached else without_hook).append(time.perf_counter() - start)
    hook.detach()
    hook.attach(pair.cen, wrapper)
    penalty = timed(lambda: hook.add_penalty_grad(hook.entries), reps)
    stats = timed(hook.penalty_stats, reps)
    hook.detach()
    record = timed(lambda: exchange_stats_record(pair.cen, 4), reps)
    optimizer.zero_grad(set_to_none=True)

    num_layers = len({e.layer for e in hook.entries})
    step_ms = 1e3 * train_step_seconds
    print(f'\n## Hooks: {pair.name}, {num_layers} exchanging layers x {pair.num_streams} '
          f'streams (CEN training step {step_ms:.0f} ms)\n')
    print('| hook | work | per call (ms) | calls per iteration | per iteration (ms) | '
          '% of a training step |')
    print('|---|---|---|---|---|---|')
    entries = [
        ('CENSparsityHook', 'optimizer pre-hook: grad += λ·sign(γ̂)', penalty, 1.0),
        ('CENSparsityHook', 'penalty statistics (after_train_iter, log_interval=1)',
         stats, 1.0),
        ('ExchangeStatsHook', f'one record (every interval={stats_interval} iters)',
         record, 1.0 / stats_interval),
    ]
    for name, work, seconds, per_iter in entries:
        print(f'| {name} | {work} | {1e3 * seconds:.2f} | {per_iter:g} | '
              f'{1e3 * seconds * per_iter:.3f} | '
              f'{100 * seconds * per_iter / train_step_seconds:.3f}% |')
    diff = statistics.median(with_hook) - statistics.median(without_hook)
    print(f'\n`optimizer.step()` median with the pre-hook '
          f'{1e3 * statistics.median(with_hook):.1f} ms, without '
          f'{1e3 * statistics.median(without_hook):.1f} ms (difference {1e3 * diff:.1f} '
          'ms, within timing noise if small or negative)')


# ---- data pipeline -------------------------------------------------------------------
def write_synthetic_nyud(root: str, num: int = 24, seed: int = 0) -> None:
    """``num`` 640x480 samples in the converted NYUDv2 layout (RGB PNG, uint16 depth
    PNG in 1/5000 m, uint8 labels 0..39 / 255), smooth images like real scenes."""
    import cv2
    import numpy as np
    rng = np.random.default_rng(seed)
    h, w = 480, 640
    for sub in ('images/train', 'depth/train', 'annotations/train'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for i in range(num):
        low = rng.uniform(0, 255, (h // 16, w // 16, 3)).astype(np.float32)
        rgb = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
        rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
        depth = cv2.resize(rng.uniform(0.5, 8.0, (h // 32, w // 32)).astype(np.float32),
                           (w, h), interpolation=cv2.INTER_LINEAR)
        depth = (depth * 5000).astype(np.uint16)
        depth[rng.random((h, w)) < 0.05] = 0  # holes
        labels = cv2.resize(rng.integers(0, 40, (h // 40, w // 40)).astype(np.uint8),
                            (w, h), interpolation=cv2.INTER_NEAREST)
        labels[rng.random((h, w)) < 0.02] = 255
        name = f'{i:06d}.png'
        cv2.imwrite(osp.join(root, 'images/train', name), rgb[..., ::-1])
        cv2.imwrite(osp.join(root, 'depth/train', name), depth)
        cv2.imwrite(osp.join(root, 'annotations/train', name), labels)


def benchmark_data(args) -> None:
    from mmengine.config import Config
    from mmengine.runner import Runner
    cfg_path = osp.join(REPO_ROOT, NYUD_DATASET_CONFIG)
    if not osp.isfile(cfg_path):
        print(f'\n(data pipeline skipped: {NYUD_DATASET_CONFIG} not found)')
        return
    cfg = Config.fromfile(cfg_path)
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
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
    loader_cfg.dataset.data_root = data_root
    loader_cfg.persistent_workers = False  # one pass, then the workers exit
    try:
        loader = Runner.build_dataloader(loader_cfg, seed=args.seed)
        batch_size, workers = loader_cfg.batch_size, loader_cfg.num_workers
        it = iter(loader)
        start = time.perf_counter()
        next(it)  # worker start-up and the first batch
        first = time.perf_counter() - start
        done = images = restarts = 0
        start = time.perf_counter()
        while done < args.data_batches:
            try:
                batch = next(it)
            except StopIteration:  # a small dataset: go round again (workers restart)
                it = iter(loader)
                restarts += 1
                continue
            done += 1
            images += len(batch['inputs'])  # the last batch of an epoch may be short
        elapsed = time.perf_counter() - start
    finally:
        if tmp is not None:
            tmp.cleanup()
    print(f'\n## Data pipeline: NYUDv2 RGB-D training pipeline ({NYUD_DATASET_CONFIG}) '
          f'on {source}\n')
    print(f'batch size {batch_size}, num_workers {workers}: '
          f'{images / elapsed:.1f} images/s ({images} images in {done} batches'
          + (f', {restarts} restarts of the loader on a small dataset' if restarts
             else '') + ') '
          f'(first batch incl. worker start-up: {first:.2f} s)')


# ---- main ----------------------------------------------------------------------------
def load_model_cfgs(args) -> List[tuple]:
    from mmengine.config import Config
    paths = args.config
    if paths is None:
        paths = [p for p in DEFAULT_CONFIGS if osp.isfile(osp.join(REPO_ROOT, p))]
        if not paths:
            return [('CENResNet-101 backbone (built-in)', dict(FALLBACK_BACKBONE))]
    cfgs = []
    for path in paths:
        full = path if osp.isfile(path) else osp.join(REPO_ROOT, path)
        if not osp.isfile(full):
            raise FileNotFoundError(f'--config {path}: no such file')
        cfg = Config.fromfile(full)
        if 'model' not in cfg:
            raise KeyError(f'--config {path}: no `model` in the config')
        cfgs.append((osp.splitext(osp.basename(path))[0], cfg.model.to_dict()))
    return cfgs


def main(argv=None) -> None:
    args = parse_args(argv)
    device = torch.device(args.device)
    if device.type == 'cuda' and not torch.cuda.is_available():
        raise RuntimeError('--device cuda: CUDA is not available')
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    from mmengine.registry import init_default_scope
    import cen_mm  # noqa: F401  (registers the CEN modules)
    init_default_scope('mmseg')

    print(f'# CEN benchmark: torch {torch.__version__}, device {device}, '
          f'{torch.get_num_threads()} threads, batch {args.batch} per stream, '
          f'{args.size}x{args.size}, {args.warmup} warm-up + {args.iters} timed rounds'
          + (', bfloat16 autocast' if args.amp else '')
          + (f', torch.compile(backend={args.compile!r})' if args.compile else ''))
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
        with open(args.json, 'w') as f:
            json.dump(dict(args=vars(args), torch=torch.__version__,
                           threads=torch.get_num_threads(), results=results), f,
                      indent=1)
        print(f'\nmeasurements written to {args.json}')


if __name__ == '__main__':
    main()
