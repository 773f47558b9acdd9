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
errors).
"""
import argparse
import os
import os.path as osp
import re
import sys
from collections import OrderedDict
from typing import Callable, Dict, List, Tuple

import torch

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

# The official code wraps every conv in ModuleParallel (``.module``) and keeps one BN
# per stream in BatchNorm2dParallel (``.bn_{m}``). Official decoder stage s = 1 is the
# deepest; ours is ``decode_head.stages.{s-1}``.
_Rule = Tuple[str, Callable[[re.Match], str]]


def _stage(m: re.Match, group: int = 1) -> str:
    return f'decode_head.stages.{int(m.group(group)) - 1}'


def _rcu(part: str) -> Callable[[re.Match], str]:
    def target(m: re.Match) -> str:
        conv = 'conv2' if m.group(3) else 'conv1'
        return (f'{_stage(m)}.{part}.blocks.{int(m.group(2)) - 1}.{conv}.'
                f'{m.group(4)}')
    return target


RULES: List[_Rule] = [
    # backbone: shared convs
    (r'(conv1|layer\d+\.\d+\.conv\d+|layer\d+\.\d+\.downsample\.0)\.module\.'
     r'(weight|bias)', lambda m: f'backbone.{m.group(1)}.{m.group(2)}'),
    # backbone: private BNs -> ModalityNorm.norms.{m}
    (r'(bn1|layer\d+\.\d+\.bn\d+|layer\d+\.\d+\.downsample\.1)\.bn_(\d+)\.'
     r'(weight|bias|running_mean|running_var|num_batches_tracked)',
     lambda m: f'backbone.{m.group(1)}.norms.{m.group(2)}.{m.group(3)}'),
    # decoder
    (r'p_ims1d2_outl(\d)_dimred\.module\.weight',
     lambda m: f'{_stage(m)}.dimred.weight'),
    (r'adapt_stage(\d)_b\.0\.(\d+)_conv(_relu_varout_dimred)?\.module\.(weight|bias)',
     _rcu('adapt')),
    (r'adapt_stage(\d)_b2_joint_varout_dimred\.module\.weight',
     lambda m: f'{_stage(m)}.adapt_out.weight'),
    (r'mflow_conv_g(\d)_pool\.0\.(\d+)_outvar_dimred\.module\.weight',
     lambda m: f'{_stage(m)}.crp.convs.{int(m.group(2)) - 1}.weight'),
    (r'mflow_conv_g(\d)_b\.0\.(\d+)_conv(_relu_varout_dimred)?\.module\.(weight|bias)',
     _rcu('fuse')),
    (r'mflow_conv_g(\d)_b3_joint_varout_dimred\.module\.weight',
     lambda m: f'{_stage(m)}.out_conv.weight'),
    (r'clf_conv\.module\.(weight|bias)',
     lambda m: f'decode_head.conv_seg.{m.group(1)}'),
    # ensemble weights (CENEncoderDecoder.ensemble, cen_mm.core.StreamEnsemble)
    (r'alpha', lambda m: 'ensemble.alpha'),
]
_COMPILED = [(re.compile(pattern), target) for pattern, target in RULES]


class ConversionError(RuntimeError):
    """The source checkpoint does not fit the official CEN RefineNet layout."""


def convert_key(key: str) -> str:
    """Official key (with or without ``module.``) -> cen_mm key; KeyError if unknown."""
    bare = key[len('module.'):] if key.startswith('module.') else key
    for pattern, target in _COMPILED:
        match = pattern.fullmatch(bare)
        if match:
            return target(match)
    raise KeyError(key)


def convert_state_dict(
        src: Dict[str, torch.Tensor]) -> 'OrderedDict[str, torch.Tensor]':
    """Convert all keys; raise :class:`ConversionError` on unmatched/duplicate keys."""
    dst, unmatched, sources = OrderedDict(), [], {}
    for key, value in src.items():
        try:
            new_key = convert_key(key)
        except KeyError:
            unmatched.append(key)
            continue
        if new_key in dst:
            raise ConversionError(f'source keys {sources[new_key]!r} and {key!r} both '
                                  f'map to {new_key!r}')
        sources[new_key] = key
        dst[new_key] = value
    if unmatched:
        raise ConversionError(
            f'{len(unmatched)} source key(s) match no rule of the official CEN '
            'RefineNet layout:\n  ' + '\n  '.join(unmatched))
    return dst


def extract_state_dict(checkpoint) -> Dict[str, torch.Tensor]:
    """The official checkpoint keeps the state dict under ``'segmenter'``."""
    if isinstance(checkpoint, dict) and 'segmenter' in checkpoint:
        state_dict = checkpoint['segmenter']
        if not isinstance(state_dict, dict) or not state_dict:
            what = ('empty' if isinstance(state_dict, dict)
                    else f'a {type(state_dict).__name__}')
            raise ConversionError(
                f"the checkpoint's 'segmenter' entry is {what}: expected the state "
                'dict of the official RefineNet (nothing to convert)')
        return state_dict
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        raise ConversionError("found 'state_dict' (an mmengine checkpoint?), expected "
                              "an official CEN checkpoint with 'segmenter'")
    if isinstance(checkpoint, dict) and checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    keys = list(checkpoint)[:10] if isinstance(checkpoint, dict) else type(checkpoint)
    raise ConversionError("expected an official CEN checkpoint (a dict with "
                          f"'segmenter') or a bare state dict, got {keys}")


def load_official(path: str, unsafe: bool = False):
    """Load ``path`` with cen_mm's allow-list (``weights_only=True`` plus numpy scalars,
    e.g. the official ``best_val``); ``unsafe=True`` unpickles anything (files you
    trust only). Missing, truncated and non-checkpoint files are errors naming them."""
    from cen_mm.engine.runner import (CheckpointError, safe_torch_load,
                                      unsafe_checkpoint_loading)
    if not osp.isfile(path):
        raise ConversionError(f'{path}: no such file (the official checkpoint, e.g. '
                              'model-best.pth.tar)')
    try:
        if unsafe:
            with unsafe_checkpoint_loading():
                return safe_torch_load(path, map_location='cpu')
        return safe_torch_load(path, map_location='cpu',
                               unsafe_hint='If you trust this file, rerun with '
                               '--unsafe-load.')
    except CheckpointError as err:
        raise ConversionError(str(err)) from None


def save_converted(checkpoint: dict, dst: str) -> None:
    """Write ``checkpoint`` to ``dst`` atomically (temporary file + rename), creating
    the destination folder; clear errors for unwritable destinations."""
    from cen_mm.engine.runner import atomic_write
    folder = osp.dirname(osp.abspath(dst))
    if osp.isdir(dst):
        raise ConversionError(f'destination {dst} is a directory; give a file name, '
                              f'e.g. {osp.join(dst, "cen_converted.pth")}')
    try:
        os.makedirs(folder, exist_ok=True)
        atomic_write(dst, lambda tmp: torch.save(checkpoint, tmp))
    except (FileExistsError, NotADirectoryError) as err:
        raise ConversionError(f'cannot create the destination folder {folder}: a '
                              f'parent is a file ({err.filename}); choose another '
                              'destination') from None
    except PermissionError as err:
        raise ConversionError(f'cannot write {dst}: permission denied ('
                              f'{err.filename}); choose a writable destination'
                              ) from None
    except OSError as err:
        raise ConversionError(f'cannot write {dst}: {err.strerror} ({err.filename})'
                              ) from None


def check_against_model(state_dict: Dict[str, torch.Tensor], config: str) -> None:
    """Build the model of ``config`` and compare keys and shapes (strict)."""
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmseg.registry import MODELS

    import cen_mm  # noqa: F401  (registers the CEN modules)
    cfg = Config.fromfile(config)
    init_default_scope(cfg.get('default_scope', 'mmseg'))
    model_cfg = cfg.model
    model = MODELS.build(model_cfg)
    expected = model.state_dict()
    missing = sorted(set(expected) - set(state_dict))
    unexpected = sorted(set(state_dict) - set(expected))
    mismatched = sorted(
        f'{k}: converted {tuple(state_dict[k].shape)} vs model '
        f'{tuple(expected[k].shape)}' for k in set(expected) & set(state_dict)
        if state_dict[k].shape != expected[k].shape)
    problems = []
    for title, items in (('missing in the converted checkpoint', missing),
                         ('not in the model', unexpected),
                         ('shape mismatch', mismatched)):
        if items:
            problems.append(f'{len(items)} key(s) {title}:\n  ' + '\n  '.join(items))
    if problems:
        raise ConversionError(f'converted checkpoint does not fit {config}:\n' +
                              '\n'.join(problems))


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
