"""Convert an official CEN RefineNet checkpoint (github.com/yikaiw/CEN) to cen_mm.

Usage::

    python tools/model_converters/cen2mmseg.py SRC DST [--config CFG]

``SRC`` is what the official ``main.py`` saves: a dict whose ``'segmenter'`` entry is
the state dict of the ``DataParallel``-wrapped RefineNet (keys ``module.conv1.module.
weight``, ``module.layer1.0.bn2.bn_1.weight``, ``module.clf_conv.module.bias``,
``module.alpha`` ...). A bare state dict is accepted too. ``DST`` is an mmengine
checkpoint ``{'state_dict': ..., 'meta': ...}`` for ``CENEncoderDecoder`` with a
``CENResNet`` backbone and a ``RefineNetHead`` (e.g. ``configs/_base_/models/
cen_refinenet_r101.py``): load it with ``--cfg-options load_from=DST`` or
``tools/test.py CFG DST``.

Every source key must match exactly one rule below, otherwise the conversion stops and
lists the unmatched keys. With ``--config`` the converted keys and shapes are also
checked against the model the config builds (missing / unexpected / mismatched keys are
errors). The rules and checks are importable:
``cen_mm.seg.models.utils.official_checkpoint``.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.models.utils.official_checkpoint import (  # noqa: E402,F401
    RULES, OfficialCheckpointError, check_against_model, convert_key,
    convert_state_dict, extract_state_dict, load_official, save_converted)

# the name this script's callers and tests know
ConversionError = OfficialCheckpointError


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('src', help='official CEN checkpoint (model-best.pth.tar)')
    parser.add_argument('dst', help='output mmengine checkpoint (.pth)')
    parser.add_argument('--config', help='check the result against this model config')
    parser.add_argument('--unsafe-load', action='store_true',
                        help='unpickle SRC without weights_only (trusted files only)')
    args = parser.parse_args(argv)
    try:
        src = extract_state_dict(load_official(args.src, args.unsafe_load))
        state_dict = convert_state_dict(src)
        if args.config:
            check_against_model(state_dict, args.config)
        save_converted({'state_dict': state_dict,
                        'meta': {'converted_from': osp.abspath(args.src),
                                 'converter': 'tools/model_converters/cen2mmseg.py'}},
                       args.dst)
    except ConversionError as err:
        print(f'cen2mmseg: {err}', file=sys.stderr)
        return 1
    streams = sorted({k.split('.norms.')[1].split('.')[0]
                      for k in state_dict if '.norms.' in k})
    groups = {}
    for key in state_dict:
        groups[key.split('.')[0]] = groups.get(key.split('.')[0], 0) + 1
    print(f'cen2mmseg: mapped {len(state_dict)} / {len(src)} keys '
          f'({", ".join(f"{g}: {n}" for g, n in groups.items())}; '
          f'{len(streams)} stream(s)); checked against model: '
          f'{"yes" if args.config else "no"} -> {args.dst}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
