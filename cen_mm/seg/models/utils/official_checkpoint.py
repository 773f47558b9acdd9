"""Official CEN RefineNet checkpoints (github.com/yikaiw/CEN) as cen_mm checkpoints:
the key rules, loading with cen_mm's allow-list, the check against a model config and
the atomic write. ``tools/model_converters/cen2mmseg.py`` is the command line.

The official ``main.py`` saves a dict whose ``'segmenter'`` entry is the state dict of
the ``DataParallel``-wrapped RefineNet (keys ``module.conv1.module.weight``,
``module.layer1.0.bn2.bn_1.weight``, ``module.clf_conv.module.bias``,
``module.alpha`` ...). :func:`convert_state_dict` maps every key by exactly one rule of
:data:`RULES` to ``CENEncoderDecoder`` keys (``CENResNet`` backbone, ``RefineNetHead``);
an unmatched or doubly mapped key is an error. (mmengine's ``load_checkpoint(...,
revise_keys=...)`` does plain ``re.sub`` renames on load and passes unknown keys on to a
non-strict load; the stage renumbering and the exhaustive check need these rules.)

Example::

    from cen_mm.seg.models.utils.official_checkpoint import (
        convert_state_dict, extract_state_dict, load_official)
    state_dict = convert_state_dict(extract_state_dict(load_official(path)))
"""
import os
import os.path as osp
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Tuple

import torch

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


class OfficialCheckpointError(RuntimeError):
    """The source checkpoint does not fit the official CEN RefineNet layout, or the
    result cannot be written / does not fit the model."""


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
    """Convert all keys; :class:`OfficialCheckpointError` on unmatched or duplicate
    keys."""
    dst, unmatched, sources = OrderedDict(), [], {}
    for key, value in src.items():
        try:
            new_key = convert_key(key)
        except KeyError:
            unmatched.append(key)
            continue
        if new_key in dst:
            raise OfficialCheckpointError(
                f'source keys {sources[new_key]!r} and {key!r} both map to '
                f'{new_key!r}')
        sources[new_key] = key
        dst[new_key] = value
    if unmatched:
        raise OfficialCheckpointError(
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
            raise OfficialCheckpointError(
                f"the checkpoint's 'segmenter' entry is {what}: expected the state "
                'dict of the official RefineNet (nothing to convert)')
        return state_dict
    if isinstance(checkpoint, dict) and 'state_dict' in checkpoint:
        raise OfficialCheckpointError(
            "found 'state_dict' (an mmengine checkpoint?), expected an official CEN "
            "checkpoint with 'segmenter'")
    if isinstance(checkpoint, dict) and checkpoint and all(
            isinstance(v, torch.Tensor) for v in checkpoint.values()):
        return checkpoint
    keys = list(checkpoint)[:10] if isinstance(checkpoint, dict) else type(checkpoint)
    raise OfficialCheckpointError("expected an official CEN checkpoint (a dict with "
                                  f"'segmenter') or a bare state dict, got {keys}")


def load_official(path: str, unsafe: bool = False):
    """Load ``path`` with cen_mm's allow-list (``weights_only=True`` plus numpy scalars,
    e.g. the official ``best_val``); ``unsafe=True`` unpickles anything (files you
    trust only). Missing, truncated and non-checkpoint files are errors naming them."""
    from cen_mm.engine.runner import (CheckpointError, safe_torch_load,
                                      unsafe_checkpoint_loading)
    if not osp.isfile(path):
        raise OfficialCheckpointError(f'{path}: no such file (the official checkpoint, '
                                      'e.g. model-best.pth.tar)')
    try:
        if unsafe:
            with unsafe_checkpoint_loading():
                return safe_torch_load(path, map_location='cpu')
        return safe_torch_load(path, map_location='cpu',
                               unsafe_hint='If you trust this file, rerun with '
                               '--unsafe-load.')
    except CheckpointError as err:
        raise OfficialCheckpointError(str(err)) from None


def save_converted(checkpoint: dict, dst: str) -> None:
    """Write ``checkpoint`` to ``dst`` atomically (temporary file + rename), creating
    the destination folder; clear errors for unwritable destinations."""
    from cen_mm.engine.runner import atomic_write
    folder = osp.dirname(osp.abspath(dst))
    if osp.isdir(dst):
        raise OfficialCheckpointError(
            f'destination {dst} is a directory; give a file name, e.g. '
            f'{osp.join(dst, "cen_converted.pth")}')
    try:
        os.makedirs(folder, exist_ok=True)
        atomic_write(dst, lambda tmp: torch.save(checkpoint, tmp))
    except (FileExistsError, NotADirectoryError) as err:
        raise OfficialCheckpointError(
            f'cannot create the destination folder {folder}: a parent is a file '
            f'({err.filename}); choose another destination') from None
    except PermissionError as err:
        raise OfficialCheckpointError(f'cannot write {dst}: permission denied ('
                                      f'{err.filename}); choose a writable destination'
                                      ) from None
    except OSError as err:
        raise OfficialCheckpointError(
            f'cannot write {dst}: {err.strerror} ({err.filename})') from None


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
        raise OfficialCheckpointError(f'converted checkpoint does not fit {config}:\n' +
                                      '\n'.join(problems))
