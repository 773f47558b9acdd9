"""Inflate a single-stream checkpoint into a multi-stream CEN model.

A CEN model differs from its single-stream counterpart only in the per-stream copies it
keeps inside :class:`~cen_mm.core.ModalityNorm` (``norms``) and, for the unshared-conv
ablation, :class:`ModalityConv2d` (``convs``). Inflation therefore maps every model key
to one single-stream key by dropping that container level, e.g.::

    bn1.norms.1.running_var          <- bn1.running_var
    layer1.0.conv2.convs.0.weight    <- layer1.0.conv2.weight
    layer1.0.conv2.weight            <- layer1.0.conv2.weight   (shared conv)

so each stream starts from the same pretrained layer. Loading is strict: keys the model
needs but the checkpoint lacks, shape mismatches and unexpected checkpoint keys are
errors (``num_batches_tracked`` and obvious head keys are ignored). This is why CEN
models do not use mmengine's ``PretrainedInit``, which loads non-strictly and only logs
what it skipped.
"""
import re
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.runner.checkpoint import CheckpointLoader

from cen_mm.core import ModalityNorm
from .modality_conv import ModalityConv2d

# (module type, attribute holding its per-stream copies)
PER_STREAM_CONTAINERS = ((ModalityNorm, 'norms'), (ModalityConv2d, 'convs'))

# Checkpoint keys that belong to heads, never to a backbone: ignored when found.
HEAD_KEY_PREFIXES = ('fc.', 'head.', 'decode_head.', 'auxiliary_head.')
IGNORED_KEY_SUFFIXES = ('num_batches_tracked', )


class CheckpointInflationError(RuntimeError):
    """A single-stream checkpoint does not fit the model it should initialise."""


def _is_ignored(key: str) -> bool:
    return key.startswith(HEAD_KEY_PREFIXES) or key.endswith(IGNORED_KEY_SUFFIXES)


def single_stream_key_map(model: nn.Module) -> Dict[str, str]:
    """Map every key of ``model.state_dict()`` to its single-stream checkpoint key."""
    copy_prefixes = {}  # 'layer1.0.bn2.norms.1.' -> 'layer1.0.bn2.'
    for name, module in model.named_modules():
        for cls, attr in PER_STREAM_CONTAINERS:
            if isinstance(module, cls):
                owner = f'{name}.' if name else ''
                for m in range(len(getattr(module, attr))):
                    copy_prefixes[f'{owner}{attr}.{m}.'] = owner
    mapping = {}
    for key in model.state_dict():
        src = key
        # drop the innermost container level first; repeat for nested ones
        changed = True
        while changed:
            changed = False
            parts = src.split('.')
            for i in range(len(parts) - 1, 0, -1):
                prefix = '.'.join(parts[:i]) + '.'
                if prefix in copy_prefixes:
                    src = copy_prefixes[prefix] + src[len(prefix):]
                    changed = True
                    break
        mapping[key] = src
    return mapping


def own_init_prefixes(model: nn.Module) -> Tuple[str, ...]:
    """Key prefixes of sub-modules with no single-stream counterpart (named by a
    module's ``new_submodules``, e.g. the CBN's ``condition`` MLP): inflation leaves
    them at their own initialisation."""
    prefixes = []
    for name, module in model.named_modules():
        for child in getattr(module, 'new_submodules', ()):
            prefixes.append(f'{name}.{child}.' if name else f'{child}.')
    return tuple(prefixes)


def _key_list(keys: Sequence[str], limit: int = 20) -> str:
    shown = ', '.join(keys[:limit])
    more = f', ... ({len(keys) - limit} more)' if len(keys) > limit else ''
    return f'{len(keys)}: [{shown}{more}]'


def load_single_stream_state_dict(
        model: nn.Module,
        state_dict: Dict[str, torch.Tensor],
        source: str = '<state_dict>',
        key_aliases: Optional[Callable[[str], Iterable[str]]] = None) -> List[str]:
    """Copy a single-stream ``state_dict`` into every stream of ``model`` (strict).

    Args:
        model: a CEN model (ModalityNorm / ModalityConv2d hold the per-stream copies).
        state_dict: single-stream tensors, already stripped of any prefix.
        source: where ``state_dict`` came from, for error messages.
        key_aliases: optional ``f(single_stream_key) -> alternative keys`` tried in
            order when the key itself is absent (other layouts of the same layer).

    Returns:
        The checkpoint keys that were ignored (heads, ``num_batches_tracked``).

    Raises:
        CheckpointInflationError: listing missing keys, shape mismatches and
            unexpected keys (first 20 of each and their counts) and ``source``.
    """
    own = model.state_dict()
    new_state = {}
    missing, mismatched, used = [], [], set()
    own_init = own_init_prefixes(model)
    for key, src in single_stream_key_map(model).items():
        if key.endswith(IGNORED_KEY_SUFFIXES) or key.startswith(own_init):
            new_state[key] = own[key]
            continue
        candidates = [src] + list(key_aliases(src) if key_aliases else [])
        found = next((k for k in candidates if k in state_dict), None)
        if found is None:
            missing.append(src)
            continue
        used.add(found)
        value = state_dict[found]
        if not isinstance(value, torch.Tensor) or value.shape != own[key].shape:
            shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(
                value).__name__
            mismatched.append(f'{found} (checkpoint {shape}, model '
                              f'{tuple(own[key].shape)})')
            continue
        new_state[key] = value
    ignored = [k for k in state_dict if k not in used and _is_ignored(k)]
    unexpected = [k for k in state_dict if k not in used and not _is_ignored(k)]
    # a key needed by several streams is reported once
    missing = list(dict.fromkeys(missing))
    mismatched = list(dict.fromkeys(mismatched))
    if missing or mismatched or unexpected:
        problems = []
        if missing:
            problems.append(f'missing keys {_key_list(missing)}')
        if mismatched:
            problems.append(f'keys with wrong shape {_key_list(mismatched)}')
        if unexpected:
            problems.append(f'unexpected keys {_key_list(unexpected)}')
        raise CheckpointInflationError(
            f'cannot initialise {type(model).__name__} from the single-stream '
            f'checkpoint {source}: ' + '; '.join(problems))
    model.load_state_dict(new_state, strict=True)
    return ignored


def load_checkpoint_state_dict(filename: str,
                               prefix: Optional[str] = None,
                               map_location='cpu',
                               auto_prefixes: Sequence[str] = ('backbone.', ),
                               expected_keys: Iterable[str] = ()
                               ) -> Tuple[Dict[str, torch.Tensor], Optional[str]]:
    """Read a checkpoint's state dict with mmengine's loaders (local path, URL,
    ``torchvision://``, ``open-mmlab://``, ...), strip DDP's ``module.`` and a prefix.

    Args:
        filename: checkpoint location.
        prefix: keep only keys starting with it (e.g. ``'backbone.'``) and strip it;
            keys outside it are ignored. ``None``: no prefix, unless none of
            ``expected_keys`` is present and keys start with one of ``auto_prefixes``
            (whole-model mmpretrain/mmseg checkpoints), which is then used.
        map_location: as ``torch.load``.

    Returns:
        ``(state_dict, prefix)``: the selected ``key -> tensor`` dict and the prefix
        that was stripped (``None`` if none).
    """
    # (what mmengine's private _load_checkpoint does: the registered scheme loaders)
    checkpoint = CheckpointLoader.load_checkpoint(filename, map_location=map_location)
    if not isinstance(checkpoint, dict):
        raise CheckpointInflationError(
            f'checkpoint {filename} holds a {type(checkpoint).__name__}, expected a '
            'state dict or a dict with "state_dict"')
    for field in ('state_dict', 'model'):
        if isinstance(checkpoint.get(field), dict):
            checkpoint = checkpoint[field]
            break
    state_dict = {re.sub(r'^module\.', '', k): v for k, v in checkpoint.items()}
    if prefix is None:
        expected = set(expected_keys)
        if not expected & state_dict.keys():
            prefix = next((p for p in auto_prefixes
                           if any(k.startswith(p) for k in state_dict)), None)
        if prefix is None:
            return state_dict, None
        print_log(f'checkpoint {filename}: using the keys under prefix {prefix!r}',
                  logger='current')
    if not prefix.endswith('.'):
        prefix += '.'
    selected = {k[len(prefix):]: v for k, v in state_dict.items() if k.startswith(prefix)}
    if not selected:
        raise CheckpointInflationError(
            f'no key of checkpoint {filename} starts with prefix {prefix!r} '
            f'(first keys: {list(state_dict)[:5]})')
    return selected, prefix
