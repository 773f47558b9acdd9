"""Same-process A/B of the exchange on an accelerator, and where a step's time goes.

    python tools/analysis_tools/gpu_host_patterns_ab.py [DEVICE=cuda] [SIZE=480] [ROUNDS=15]

For CEN-ResNet-101 (RefineNet's backbone), CEN-RefineNet-R101, CEN-PSPNet-R101 and the
MiT-B2 backbone (batch 2 per stream, 20 % of each sub-part below θ, dropout off),
training steps of the floor and of CEN in two variants, alternating in each round:

* ``blend``: no host patterns, so the exchange is the sync-free masked blend;
* ``host``: the default, host patterns (``cen_mm.core.exchange_patterns``) and the
  indexed paths.

First one step of each variant from the same weights: equal loss and gradients?
(GPU kernels such as bilinear upsampling's backward are not deterministic, so the
gradients of whole models may differ in the last bits between any two runs.) Then per
step: median wall time (synchronised), host-issue time (until the step returns, before
synchronising: equal to the wall time when the host is the bottleneck), the kernels'
summed device time and their count (torch.profiler, one step), and the paired ratio
to the floor with its 95 % interval. The same for inference of floor and CEN.
Printed as markdown tables (docs/performance.md, "GPU").
"""
import os
import statistics
import sys
import time

import torch

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
sys.path.insert(0, ROOT)

import cen_mm  # noqa: E402,F401
import cen_mm.core.exchange_patterns as patterns  # noqa: E402
from cen_mm.utils.benchmark.device_check import without_dropout  # noqa: E402
from cen_mm.utils.benchmark.model_pair import (ModelPair,  # noqa: E402
                                               set_exchange_fraction)
from cen_mm.utils.benchmark.timing import median_ratio_interval  # noqa: E402

CASES = (('configs/_base_/models/cen_refinenet_r101.py', True),
         ('configs/_base_/models/cen_refinenet_r101.py', False),
         ('configs/_base_/models/cen_pspnet_r101.py', False),
         ('configs/cen/modern/cen_segformer_mit-b2_nyud_rgbd.py', True))


def in_variant(variant, step):
    """``step`` with host patterns on ('host') or off ('blend')."""
    def run():
        with patterns.host_patterns(variant == 'host'):
            step()
    return run


def sync(device):
    if device.type == 'cuda':
        torch.cuda.synchronize()


def kernel_time(step, device):
    """(summed device time of the kernels in ms, their count) of one step."""
    from torch.profiler import ProfilerActivity, profile
    activities = [ProfilerActivity.CPU]
    if device.type == 'cuda':
        activities.append(ProfilerActivity.CUDA)
    sync(device)
    with profile(activities=activities) as prof:
        step()
        sync(device)
    kernels = [e for e in prof.events()
               if e.device_type == torch.autograd.DeviceType.CUDA]
    return sum(e.device_time_total for e in kernels) / 1e3, len(kernels)


def time_rounds(steps, device, rounds, warmup=5):
    """{name: (wall seconds, host-issue seconds)} per round, alternating order."""
    wall = {k: [] for k in steps}
    host = {k: [] for k in steps}
    for r in range(warmup + rounds):
        for name in (list(steps) if r % 2 == 0 else list(steps)[::-1]):
            variant, step = steps[name]
            step = in_variant(variant, step)
            sync(device)
            t0 = time.perf_counter()
            step()
            t1 = time.perf_counter()
            sync(device)
            if r >= warmup:
                wall[name].append(time.perf_counter() - t0)
                host[name].append(t1 - t0)
    return wall, host


def print_table(title, steps, wall, host, device):
    print(f'| {title} | wall ms | host-issue ms | kernel ms | kernels | '
          'wall / floor (95 % interval) |\n|---|---|---|---|---|---|')
    for name, (variant, step) in steps.items():
        ms, count = kernel_time(in_variant(variant, step), device)
        lo, hi = median_ratio_interval(wall[name], wall['floor'])
        ratio = statistics.median(a / b for a, b in zip(wall[name], wall['floor']))
        print(f'| {name} | {1e3 * statistics.median(wall[name]):.1f} | '
              f'{1e3 * statistics.median(host[name]):.1f} | {ms:.1f} | {count} | '
              f'{ratio:.3f} ({lo:.3f}-{hi:.3f}) |', flush=True)


def main():
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    init_default_scope('mmseg')
    device = torch.device(sys.argv[1] if len(sys.argv) > 1 else 'cuda')
    size = int(sys.argv[2]) if len(sys.argv) > 2 else 480
    rounds = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    for path, backbone_only in CASES:
        name = os.path.basename(path)[:-3] + (' backbone' if backbone_only else '')
        model = Config.fromfile(os.path.join(ROOT, path)).model.to_dict()
        pair = ModelPair(name, model, backbone_only, None, 2, size, device, 0)
        set_exchange_fraction(pair.cen, 0.2, 0)
        without_dropout(pair.cen)
        without_dropout(pair.floor)
        pair.set_mode('train')
        losses, grads = {}, {}
        for variant in ('blend', 'host'):
            pair.cen.zero_grad()
            with patterns.host_patterns(variant == 'host'):
                loss = pair.loss('cen')
            loss.backward()
            losses[variant] = loss.item()
            grads[variant] = [p.grad.clone() for p in pair.cen.parameters()
                              if p.grad is not None]
        same = all(torch.equal(a, b) for a, b in zip(grads['blend'], grads['host']))
        print(f'\n## {name}, {size} px, {rounds} rounds; blend / host: loss equal '
              f'{losses["blend"] == losses["host"]}, gradients equal {same}\n')
        del grads
        train = {'floor': ('host', pair.train_step('floor')),
                 'blend': ('blend', pair.train_step('cen')),
                 'host': ('host', pair.train_step('cen'))}
        print_table('train step', train, *time_rounds(train, device, rounds), device)
        pair.set_mode('infer')
        infer = {'floor': ('host', pair.infer_step('floor')),
                 'cen': ('host', pair.infer_step('cen'))}
        print_table('infer step', infer, *time_rounds(infer, device, rounds), device)
        del pair, train, infer
        if device.type == 'cuda':
            torch.cuda.empty_cache()


if __name__ == '__main__':
    main()
