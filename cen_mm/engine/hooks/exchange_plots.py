"""Figures of channel-exchange records (see :mod:`.exchange_stats_hook` for the format).

Uses matplotlib's object API with the Agg canvas (no global backend switch, no
display needed). Every function returns a :class:`matplotlib.figure.Figure`.
"""
from typing import List, Optional, Sequence, Tuple

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter

from cen_mm.core import subpart_mask

MAX_ANNOTATED_CELLS = 240


def _new_figure(width: float, height: float) -> Figure:
    fig = Figure(figsize=(width, height))
    FigureCanvasAgg(fig)
    return fig


def figure_to_rgb(fig: Figure) -> np.ndarray:
    """Render ``fig`` to an (H, W, 3) uint8 RGB array (for ``visualizer.add_image``)."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def _stream_names(num_streams: int, stream_names: Optional[Sequence[str]]):
    names = list(stream_names or [])
    return names[:num_streams] + [f's{m}' for m in range(len(names), num_streams)]


def draw_exchange_heatmap(record: dict,
                          stream_names: Optional[Sequence[str]] = None) -> Figure:
    """Heatmap layers × streams of the percentage of each layer's channels exchanged.

    Cells of streams a layer does not have (layers with fewer streams) are blank.
    """
    layers = record['layers']
    num_layers = len(layers)
    num_streams = max(layer['num_streams'] for layer in layers)
    percent = np.full((num_streams, num_layers), np.nan)
    for i, layer in enumerate(layers):
        percent[:layer['num_streams'], i] = 100.0 * np.asarray(layer['exchanged'])
    fig = _new_figure(max(5.0, 0.32 * num_layers + 2.5), 1.0 + 0.55 * num_streams
                      + (1.6 if num_layers <= 60 else 0.6))
    ax = fig.add_subplot(1, 1, 1)
    vmax = max(float(np.nanmax(percent)) if np.isfinite(percent).any() else 0.0, 1.0)
    image = ax.imshow(np.ma.masked_invalid(percent), aspect='auto', cmap='viridis',
                      vmin=0.0, vmax=vmax, interpolation='nearest')
    fig.colorbar(image, ax=ax, label='% channels exchanged')
    ax.set_yticks(range(num_streams))
    ax.set_yticklabels(_stream_names(num_streams, stream_names))
    ax.set_xticks(range(num_layers))
    if num_layers <= 60:
        ax.set_xticklabels([layer['name'] for layer in layers], rotation=90,
                           fontsize=7)
    else:
        ax.set_xlabel('exchanging layer index')
    if num_layers * num_streams <= MAX_ANNOTATED_CELLS:
        for m in range(num_streams):
            for i in range(num_layers):
                if np.isfinite(percent[m, i]):
                    ax.text(i, m, f'{percent[m, i]:.0f}', ha='center',
                            va='center', fontsize=8, color='w'
                            if percent[m, i] < 0.6 * vmax else 'k')
    overall = 100.0 * record.get('overall_exchanged', float('nan'))
    ax.set_title(f"Exchanged channels at iter {record.get('iter', '?')} "
                 f'(overall {overall:.1f}%)')
    fig.tight_layout()
    return fig


def draw_gamma_histograms(record: dict,
                          stream_names: Optional[Sequence[str]] = None,
                          bins: int = 60) -> Figure:
    """Per stream: histogram of γ over all exchanging layers, its own sub-part (where
    the ℓ1 penalty acts) vs the other channels; dashed lines at ±θ."""
    layers = record['layers']
    if any('gamma' not in layer for layer in layers):
        raise ValueError('the record has no per-channel "gamma" (written with '
                         'record_gamma=False)')
    num_streams = max(layer['num_streams'] for layer in layers)
    inside: List[list] = [[] for _ in range(num_streams)]
    outside: List[list] = [[] for _ in range(num_streams)]
    for layer in layers:
        gamma = np.asarray(layer['gamma'], dtype=np.float64)
        owner = subpart_mask(layer['num_channels'], layer['num_streams']).numpy()
        for m in range(layer['num_streams']):
            inside[m].append(gamma[m][owner[m]])
            outside[m].append(gamma[m][~owner[m]])
    all_values = np.concatenate([np.concatenate(v) for v in inside + outside if v])
    # A diverged run has non-finite γ: plot the finite ones and say how many are not,
    # instead of failing (and killing the run) in matplotlib.
    num_bad = int((~np.isfinite(all_values)).sum())
    inside = [[g[np.isfinite(g)] for g in v] for v in inside]
    outside = [[g[np.isfinite(g)] for g in v] for v in outside]
    all_values = all_values[np.isfinite(all_values)]
    if all_values.size == 0:
        all_values = np.zeros(1)
    low, high = float(all_values.min()), float(all_values.max())
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    thresholds = sorted({float(layer['threshold']) for layer in layers})
    names = _stream_names(num_streams, stream_names)
    fig = _new_figure(4.0 * num_streams, 3.4)
    for m in range(num_streams):
        ax = fig.add_subplot(1, num_streams, m + 1)
        ax.hist(np.concatenate(inside[m]), bins=edges, alpha=0.7,
                label='own sub-part (penalised)')
        ax.hist(np.concatenate(outside[m]), bins=edges, alpha=0.6,
                label='other channels')
        for theta in thresholds:
            for x in (-theta, theta):
                ax.axvline(x, color='r', linestyle='--', linewidth=0.8)
        ax.set_yscale('log')
        ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
        ax.yaxis.set_major_formatter(StrMethodFormatter('{x:g}'))
        ax.yaxis.set_minor_formatter(NullFormatter())
        ax.set_xlabel('γ')
        ax.set_title(f'stream {names[m]}')
        if m == 0:
            ax.set_ylabel('channels')
            ax.legend(fontsize=7)
    fig.suptitle(f"γ of exchanging layers at iter {record.get('iter', '?')} "
                 f"(θ = {', '.join(f'{t:g}' for t in thresholds)})"
                 + (f' — {num_bad} non-finite γ not shown' if num_bad else ''))
    fig.tight_layout()
    return fig


def draw_exchange_curves(records: List[dict],
                         stream_names: Optional[Sequence[str]] = None,
                         layer_indices: Sequence[int] = ()) -> Figure:
    """Over training: % exchanged (overall, per stream over all layers, and for the
    chosen layers per stream) and mean |γ| on / off the sub-part per stream."""
    iters = np.array([r['iter'] for r in records])
    num_streams = max(layer['num_streams'] for r in records for layer in r['layers'])
    names = _stream_names(num_streams, stream_names)
    fig = _new_figure(11.0, 4.0)
    ax = fig.add_subplot(1, 2, 1)
    ax.plot(iters, [100 * r['overall_exchanged'] for r in records], 'k-',
            linewidth=2, label='overall')
    for m in range(num_streams):
        per_stream = []
        for r in records:
            count = sum(layer['num_exchanged'][m] for layer in r['layers']
                        if m < layer['num_streams'])
            total = sum(layer['num_channels'] for layer in r['layers']
                        if m < layer['num_streams'])
            per_stream.append(100.0 * count / max(total, 1))
        ax.plot(iters, per_stream, label=f'stream {names[m]} (all layers)')
    for idx in layer_indices:
        for m in range(records[-1]['layers'][idx]['num_streams']):
            ax.plot(iters, [100 * r['layers'][idx]['exchanged'][m] for r in records],
                    linestyle=':',
                    label=f"{records[-1]['layers'][idx]['name']} {names[m]}")
    ax.set_xlabel('iteration')
    ax.set_ylabel('% channels exchanged')
    ax.legend(fontsize=7)
    ax2 = fig.add_subplot(1, 2, 2)
    for m in range(num_streams):
        for key, style, what in (('gamma_subpart_abs_mean', '-', 'sub-part'),
                                 ('gamma_outside_abs_mean', '--', 'outside')):
            values = [np.mean([layer[key][m] for layer in r['layers']
                               if m < layer['num_streams']]) for r in records]
            ax2.plot(iters, values, linestyle=style, color=f'C{m}',
                     label=f'{names[m]} {what}')
    ax2.set_xlabel('iteration')
    ax2.set_ylabel('mean |γ| over layers')
    ax2.legend(fontsize=7)
    fig.tight_layout()
    return fig


def draw_gamma_trajectories(records: List[dict],
                            channels: Sequence[Tuple[int, int, int]],
                            stream_names: Optional[Sequence[str]] = None) -> Figure:
    """γ of chosen (layer index, stream, channel) triples vs iteration (TPAMI'23 Fig. 8
    style): solid inside the stream's own sub-part (penalised), dashed outside."""
    with_gamma = [r for r in records if all('gamma' in layer for layer in r['layers'])]
    if not with_gamma:
        raise ValueError('no record has per-channel "gamma" (ExchangeStatsHook was '
                         'run with record_gamma=False)')
    iters = np.array([r['iter'] for r in with_gamma])
    num_streams = max(layer['num_streams'] for layer in with_gamma[-1]['layers'])
    names = _stream_names(num_streams, stream_names)
    fig = _new_figure(7.5, 4.2)
    ax = fig.add_subplot(1, 1, 1)
    thresholds = set()
    for k, (idx, m, c) in enumerate(channels):
        layer = with_gamma[-1]['layers'][idx]
        owned = bool(subpart_mask(layer['num_channels'], layer['num_streams'])[m, c])
        thresholds.add(float(layer['threshold']))
        ax.plot(iters, [r['layers'][idx]['gamma'][m][c] for r in with_gamma],
                linestyle='-' if owned else '--', color=f'C{k % 10}',
                label=f"{layer['name']} {names[m]} ch{c} "
                      f"({'sub-part' if owned else 'outside'})")
    for theta in sorted(thresholds):
        ax.axhline(theta, color='r', linewidth=0.8, linestyle=':')
        ax.axhline(-theta, color='r', linewidth=0.8, linestyle=':')
    ax.set_xlabel('iteration')
    ax.set_ylabel('γ')
    ax.set_title('Scaling factors during training (dotted: ±θ)')
    ax.legend(fontsize=7)
    fig.tight_layout()
    return fig
