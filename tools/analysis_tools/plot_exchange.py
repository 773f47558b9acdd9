"""Plot channel-exchange statistics recorded by ``ExchangeStatsHook``.

    python tools/analysis_tools/plot_exchange.py WORK_DIR \
        [--out DIR] [--channels LAYER:STREAM:CHANNEL ...] [--layers LAYER ...]

Reads ``WORK_DIR/exchange_stats.jsonl`` and writes to ``--out`` (default
``WORK_DIR/exchange_plots``):

* ``exchanged_fraction.png``: % channels exchanged over training (overall, per stream,
  and per stream for the ``--layers`` given) and mean |γ| on / off each stream's
  sub-part;
* ``gamma_trajectories.png``: γ of the ``--channels`` chosen (TPAMI'23 Fig. 8 style);
  by default a few channels of the layer that exchanges most: inside stream 0's
  sub-part the two that end smallest and the two that end largest, and two outside;
* ``exchange_heatmap_last.png``: layers × streams % exchanged at the last record.

LAYER is an index into the exchanging layers (0 = first, -1 = last) or a layer name as
in the records (e.g. ``backbone.layer3.0.bn2``); CHANNEL is an int or a range ``a-b``
(inclusive).
"""
import argparse
import os
import os.path as osp
import sys
from typing import List, Sequence, Tuple

import numpy as np

# Repository root on sys.path so a fresh checkout works without `pip install -e .`.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.core import subpart_mask  # noqa: E402
from cen_mm.engine.hooks.exchange_plots import (  # noqa: E402
    draw_exchange_curves, draw_exchange_heatmap, draw_gamma_trajectories)
from cen_mm.engine.hooks.exchange_stats_hook import (  # noqa: E402
    EXCHANGE_PLOTS_DIR, EXCHANGE_STATS_FILE, load_exchange_records)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Plot the channel-exchange history written by ExchangeStatsHook '
        f'(WORK_DIR/{EXCHANGE_STATS_FILE}).')
    parser.add_argument('work_dir', help='work dir of a training run')
    parser.add_argument('--out', help='output directory '
                        f'(default: WORK_DIR/{EXCHANGE_PLOTS_DIR})')
    parser.add_argument('--file', default=EXCHANGE_STATS_FILE,
                        help='JSON-lines file name inside WORK_DIR')
    parser.add_argument('--channels', nargs='+', default=None,
                        metavar='LAYER:STREAM:CHANNEL',
                        help='channels whose γ to plot over training')
    parser.add_argument('--layers', nargs='+', default=(), metavar='LAYER',
                        help='layers to draw per-layer exchanged curves for')
    parser.add_argument('--stream-names', nargs='+', default=None,
                        help='names of the streams (e.g. rgb depth); default: the '
                        "hook's stream_names, else s0 s1 ...")
    return parser.parse_args(argv)


def resolve_layer(spec: str, layer_names: Sequence[str]) -> int:
    """Layer index from an index (may be negative) or a layer name."""
    if spec in layer_names:
        return list(layer_names).index(spec)
    try:
        idx = int(spec)
    except ValueError:
        raise ValueError(f'unknown layer {spec!r}: give an index in '
                         f'[-{len(layer_names)}, {len(layer_names)}) or one of '
                         f'{list(layer_names)}') from None
    if not -len(layer_names) <= idx < len(layer_names):
        raise ValueError(f'layer index {idx} out of range: there are '
                         f'{len(layer_names)} exchanging layers')
    return idx % len(layer_names)


def parse_channel_specs(specs: Sequence[str],
                        layers: List[dict]) -> List[Tuple[int, int, int]]:
    """``['L:S:C', 'L:S:a-b']`` -> [(layer index, stream, channel), ...], checked."""
    names = [layer['name'] for layer in layers]
    out = []
    for spec in specs:
        parts = spec.rsplit(':', 2)
        if len(parts) != 3:
            raise ValueError(f'--channels entry {spec!r}: expected '
                             'LAYER:STREAM:CHANNEL (e.g. 0:0:5 or 0:1:0-7)')
        idx = resolve_layer(parts[0], names)
        layer = layers[idx]
        try:
            stream = int(parts[1])
            if '-' in parts[2]:
                first, last = (int(v) for v in parts[2].split('-'))
                chans = list(range(first, last + 1))
            else:
                chans = [int(parts[2])]
        except ValueError:
            raise ValueError(f'--channels entry {spec!r}: STREAM must be an int and '
                             'CHANNEL an int or a range a-b') from None
        if not 0 <= stream < layer['num_streams']:
            raise ValueError(f'--channels entry {spec!r}: layer {layer["name"]} has '
                             f'{layer["num_streams"]} streams')
        bad = [c for c in chans if not 0 <= c < layer['num_channels']]
        if bad or not chans:
            raise ValueError(f'--channels entry {spec!r}: layer {layer["name"]} has '
                             f'{layer["num_channels"]} channels')
        out += [(idx, stream, c) for c in chans]
    return out


def default_channels(last: dict) -> List[Tuple[int, int, int]]:
    """Fig. 8-style picks in the layer where stream 0 exchanges most (last record)."""
    idx = int(np.argmax([layer['exchanged'][0] for layer in last['layers']]))
    layer = last['layers'][idx]
    gamma0 = np.abs(np.asarray(layer['gamma'][0]))
    owner = subpart_mask(layer['num_channels'], layer['num_streams'])[0].numpy()
    inside = np.flatnonzero(owner)[np.argsort(gamma0[owner])]
    outside = np.flatnonzero(~owner)[np.argsort(gamma0[~owner])]
    picks = list(dict.fromkeys(
        list(inside[:2]) + list(inside[-2:]) + list(outside[:1]) + list(outside[-1:])))
    return [(idx, 0, int(c)) for c in picks]


def main(argv=None) -> int:
    args = parse_args(argv)
    path = osp.join(args.work_dir, args.file)
    try:
        records = load_exchange_records(path)
    except (FileNotFoundError, ValueError) as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    if not records:
        print(f'error: {path} holds no records', file=sys.stderr)
        return 1
    out_dir = args.out or osp.join(args.work_dir, EXCHANGE_PLOTS_DIR)
    os.makedirs(out_dir, exist_ok=True)
    last = records[-1]
    print(f'{len(records)} records from {path} (iter {records[0]["iter"]} to '
          f'{last["iter"]}, {len(last["layers"])} exchanging layers)')
    names = args.stream_names or last.get('stream_names')
    try:
        layer_idx = [resolve_layer(s, [la['name'] for la in last['layers']])
                     for s in args.layers]
        written = []
        fig = draw_exchange_curves(records, names, layer_idx)
        written.append(osp.join(out_dir, 'exchanged_fraction.png'))
        fig.savefig(written[-1], dpi=100)
        fig = draw_exchange_heatmap(last, names)
        written.append(osp.join(out_dir, 'exchange_heatmap_last.png'))
        fig.savefig(written[-1], dpi=100)
        if 'gamma' in last['layers'][0]:
            channels = (parse_channel_specs(args.channels, last['layers'])
                        if args.channels else default_channels(last))
            fig = draw_gamma_trajectories(records, channels, names)
            written.append(osp.join(out_dir, 'gamma_trajectories.png'))
            fig.savefig(written[-1], dpi=100)
        elif args.channels:
            raise ValueError('the records hold no per-channel γ (ExchangeStatsHook '
                             'record_gamma=False): cannot plot --channels')
        else:
            print('records hold no per-channel γ (record_gamma=False): '
                  'skipping gamma_trajectories.png')
    except ValueError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    for p in written:
        print(f'wrote {p}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
