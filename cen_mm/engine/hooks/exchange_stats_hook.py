"""``ExchangeStatsHook``: channels exchanged per layer and stream, and γ, over training.

A *record* (one JSON line of ``{work_dir}/exchange_stats.jsonl``) is::

    {"iter": int,                  # completed training iterations
     "epoch": int,
     "timestamp": str,             # the runner's timestamp (one per launch)
     "stream_names": [str],        # only if the hook was given stream_names
     "overall_exchanged": float,   # Σ exchanged (stream, channel) pairs / Σ M·C
     "layers": [                   # exchanging layers in module order
        {"name": str, "num_streams": M, "num_channels": C, "threshold": θ,
         "exchange_mode": "subpart" | "all",
         "num_exchanged": [M ints],          # channels stream m replaces now
         "exchanged": [M floats],            # num_exchanged / C
         "gamma_subpart_abs_mean": [M floats],   # mean |γ_m,c|, c in sub-part of m
         "gamma_outside_abs_mean": [M floats],   # mean |γ_m,c|, c outside it
         "gamma": [[C floats] x M]},             # only if record_gamma
        ...]}
"""
import json
import os
import os.path as osp
from typing import List, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS

from cen_mm.core import iter_exchanging_norms

EXCHANGE_STATS_FILE = 'exchange_stats.jsonl'
EXCHANGE_PLOTS_DIR = 'exchange_plots'


@torch.no_grad()
def exchange_stats_record(model: nn.Module, gamma_digits: Optional[int] = 4) -> dict:
    """Statistics of every exchanging layer of ``model`` (the record without iter info).

    Args:
        model: the model (DDP-style wrappers are unwrapped).
        gamma_digits: significant digits kept for the per-channel γ lists; ``None``
            keeps full float precision.
    """
    if is_model_wrapper(model):
        model = model.module
    layers, total_exchanged, total_pairs = [], 0, 0
    for name, norm in iter_exchanging_norms(model):
        gamma = norm.gamma().detach().float()  # (M, C)
        absg = gamma.abs()
        owner = norm.owner_mask.to(gamma.device)  # (M, C)
        outside = ~owner
        num_exchanged = norm.exchange_mask().sum(dim=1)  # (M,)
        sub_mean = (absg * owner).sum(dim=1) / owner.sum(dim=1)
        out_mean = (absg * outside).sum(dim=1) / outside.sum(dim=1).clamp_min(1)
        num_streams, num_channels = gamma.shape
        counts = num_exchanged.cpu().tolist()
        gamma_list = gamma.cpu().tolist()
        if gamma_digits is not None:
            gamma_list = [[float(f'{v:.{gamma_digits}g}') for v in row]
                          for row in gamma_list]
        layers.append(
            dict(
                name=name,
                num_streams=num_streams,
                num_channels=num_channels,
                threshold=norm.threshold,
                exchange_mode=norm.exchange_mode,
                num_exchanged=[int(c) for c in counts],
                exchanged=[c / num_channels for c in counts],
                gamma_subpart_abs_mean=sub_mean.cpu().tolist(),
                gamma_outside_abs_mean=out_mean.cpu().tolist(),
                gamma=gamma_list))
        total_exchanged += sum(counts)
        total_pairs += num_streams * num_channels
    return dict(
        overall_exchanged=total_exchanged / total_pairs if total_pairs else 0.0,
        layers=layers)


def load_exchange_records(path: str) -> List[dict]:
    """Read a JSON-lines file written by :class:`ExchangeStatsHook`.

    Launches append to the same file. When a record's ``iter`` is not larger than the
    previous one (a resumed run repeating iterations, or a new run from scratch), the
    earlier records from that iteration on are dropped, so the result is one
    increasing history: the latest one.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(
            f'{path} does not exist. It is written by ExchangeStatsHook during '
            "training: add dict(type='ExchangeStatsHook') to custom_hooks in the "
            'config and train with this work_dir.')
    records: List[dict] = []
    with open(path) as f:
        for line_no, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f'{path}:{line_no} is not valid JSON ({err}); '
                                 'was the file truncated?') from err
            if 'iter' not in record or 'layers' not in record:
                raise ValueError(f'{path}:{line_no}: expected keys "iter" and '
                                 f'"layers", got {sorted(record)}')
            while records and records[-1]['iter'] >= record['iter']:
                records.pop()
            records.append(record)
    return records


@HOOKS.register_module()
class ExchangeStatsHook(Hook):
    """Track channel exchange: scalars, a JSON-lines history, and figures.

    Every ``interval`` training iterations (and once before training) it computes
    :func:`exchange_stats_record` and

    * puts ``train/exchanged_frac`` (overall) and, if ``log_per_layer``, per layer
      ``L`` and stream ``s``: ``train/exchanged_frac/L/s`` (fraction of the layer's C
      channels that stream s replaces), ``train/gamma_sub_abs/L/s`` (mean |γ̂| on its
      sub-part) and ``train/gamma_out_abs/L/s`` (mean |γ| outside it) into the message
      hub (text log, ``scalars.json``, TensorBoard, ...);
    * appends the record to ``{work_dir}/{out_file}`` (main process only).

    After every validation epoch and at the end of training it saves
    ``{work_dir}/exchange_plots/exchange_heatmap_iter{N}.png`` (layers × streams,
    percent exchanged) and ``gamma_hist_iter{N}.png`` (histogram of γ per stream,
    sub-part vs outside) and sends both to the runner's visualizer
    (``exchange_heatmap`` / ``gamma_hist``).

    Args:
        interval: iterations between records.
        record_gamma: store every channel's γ in the records (needed by
            ``tools/analysis_tools/plot_exchange.py`` for γ trajectories; about
            8 bytes per channel and stream per record).
        gamma_digits: significant digits of stored γ values.
        log_per_layer: also put the per-layer scalars into the message hub.
        stream_names: names of the streams for figures and scalar keys (e.g.
            ``['rgb', 'depth']``); default ``s0, s1, ...``.
        out_file: JSON-lines file name, relative to the work dir.
        draw: save/send the figures at validation and at the end of training.

    Config example: ``custom_hooks = [dict(type='ExchangeStatsHook', interval=100)]``.
    """

    priority = 'NORMAL'  # before LoggerHook (BELOW_NORMAL) reads the message hub

    def __init__(self,
                 interval: int = 100,
                 record_gamma: bool = True,
                 gamma_digits: int = 4,
                 log_per_layer: bool = True,
                 stream_names: Optional[Sequence[str]] = None,
                 out_file: str = EXCHANGE_STATS_FILE,
                 draw: bool = True):
        if int(interval) < 1:
            raise ValueError('ExchangeStatsHook: interval must be >= 1, got '
                             f'{interval}')
        if stream_names is not None and not all(
                isinstance(n, str) and n for n in stream_names):
            raise ValueError('ExchangeStatsHook: stream_names must be a list of '
                             f'non-empty strings, got {stream_names!r}')
        self.interval = int(interval)
        self.record_gamma = record_gamma
        self.gamma_digits = gamma_digits
        self.log_per_layer = log_per_layer
        self.stream_names = list(stream_names) if stream_names else None
        self.out_file = out_file
        self.draw = draw

    def stream_name(self, m: int) -> str:
        if self.stream_names is not None and m < len(self.stream_names):
            return self.stream_names[m]
        return f's{m}'

    # ---- records -----------------------------------------------------------------
    def _check_model(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        if next(iter_exchanging_norms(model), None) is None:
            raise ValueError(
                'ExchangeStatsHook: the model has no exchanging ModalityNorm '
                '(exchange=True) layers; remove the hook from custom_hooks.')

    def record(self, runner, num_iters: int) -> dict:
        """Compute, log and (main process) append the record at ``num_iters``."""
        record = dict(iter=int(num_iters), epoch=int(runner.epoch),
                      timestamp=str(runner.timestamp))
        if self.stream_names is not None:
            record['stream_names'] = self.stream_names
        record.update(exchange_stats_record(runner.model, self.gamma_digits))
        hub = runner.message_hub
        hub.update_scalar('train/exchanged_frac', record['overall_exchanged'])
        if self.log_per_layer:
            for layer in record['layers']:
                for m in range(layer['num_streams']):
                    key = f"{layer['name']}/{self.stream_name(m)}"
                    hub.update_scalar(f'train/exchanged_frac/{key}',
                                      layer['exchanged'][m])
                    hub.update_scalar(f'train/gamma_sub_abs/{key}',
                                      layer['gamma_subpart_abs_mean'][m])
                    hub.update_scalar(f'train/gamma_out_abs/{key}',
                                      layer['gamma_outside_abs_mean'][m])
        if is_main_process():
            stored = record
            if not self.record_gamma:
                stored = dict(record, layers=[
                    {k: v for k, v in layer.items() if k != 'gamma'}
                    for layer in record['layers']])
            path = osp.join(runner.work_dir, self.out_file)
            with open(path, 'a') as f:
                f.write(json.dumps(stored) + '\n')
        self._last_recorded_iter = int(num_iters)
        return record

    def before_train(self, runner) -> None:
        self._check_model(runner)
        self._last_recorded_iter = None
        self.record(runner, runner.iter)

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        if self.every_n_train_iters(runner, self.interval):
            self.record(runner, runner.iter + 1)

    # ---- figures -----------------------------------------------------------------
    def draw_figures(self, runner, record: Optional[dict] = None) -> List[str]:
        """Save the heatmap and γ histograms of ``record`` (default: now); send them to
        the visualizer. Returns the written paths (empty on non-main processes)."""
        if not is_main_process():
            return []
        from .exchange_plots import (draw_exchange_heatmap, draw_gamma_histograms,
                                     figure_to_rgb)
        if record is None:
            record = dict(iter=int(runner.iter))
            record.update(exchange_stats_record(runner.model, None))
        if not record['layers']:
            return []
        out_dir = osp.join(runner.work_dir, EXCHANGE_PLOTS_DIR)
        os.makedirs(out_dir, exist_ok=True)
        names = [self.stream_name(m) for m in range(
            max(layer['num_streams'] for layer in record['layers']))]
        paths = []
        for tag, draw_fn in (('exchange_heatmap', draw_exchange_heatmap),
                             ('gamma_hist', draw_gamma_histograms)):
            fig = draw_fn(record, stream_names=names)
            path = osp.join(out_dir, f"{tag}_iter{record['iter']}.png")
            fig.savefig(path, dpi=100)
            runner.visualizer.add_image(tag, figure_to_rgb(fig), step=record['iter'])
            paths.append(path)
        return paths

    def after_val_epoch(self, runner, metrics=None) -> None:
        if self.draw:
            self.draw_figures(runner)

    def after_train(self, runner) -> None:
        if getattr(self, '_last_recorded_iter', None) != runner.iter:
            self.record(runner, runner.iter)
        if self.draw:
            self.draw_figures(runner)
