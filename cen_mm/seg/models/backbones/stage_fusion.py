"""Where and how the fusion baselines fuse ResNet stages (NeurIPS'20 Table 2,
supplementary §2).

Fusion points, after ResNet stage (0-based index of ``layer1..layer4``)::

    'early'  -> (1,)          after stage 2 (512 channels in a ResNet-50/101/152)
    'middle' -> (2,)          after stage 3 (1024)
    'late'   -> (3,)          after stage 4 (2048)
    'all'    -> (0, 1, 2, 3)  after every stage

:func:`build_stage_fusions` builds one fusion block per fusion stage (``fusions.{i}``
in the state dict); :func:`fusion_losses` collects the auxiliary losses some blocks keep
(``AlignFusion.last_loss``); :func:`without_fusions` hides the blocks while a
single-stream ImageNet checkpoint is inflated into the ResNet (they are not in it).
"""
from contextlib import contextmanager
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.registry import MODELS
from torch import Tensor

FUSION_POINTS = {'early': (1, ), 'middle': (2, ), 'late': (3, ), 'all': (0, 1, 2, 3)}


def resolve_fusion_stages(fusion_stages: Union[str, Sequence[int]],
                          num_stages: int, owner: str) -> Tuple[int, ...]:
    """``'early'`` etc. or stage indices -> a sorted tuple of stage indices."""
    if isinstance(fusion_stages, str):
        if fusion_stages not in FUSION_POINTS:
            raise ValueError(f'{owner}: fusion_stages={fusion_stages!r}; expected one '
                             f'of {sorted(FUSION_POINTS)} or stage indices')
        fusion_stages = FUSION_POINTS[fusion_stages]
    stages = tuple(sorted(set(int(i) for i in fusion_stages)))
    if not stages or any(not 0 <= i < num_stages for i in stages):
        raise ValueError(f'{owner}: fusion_stages {tuple(fusion_stages)} must be '
                         f'non-empty stage indices in [0, {num_stages})')
    return stages


def stage_out_channels(resnet: nn.Module, base_channels: int = 64) -> Tuple[int, ...]:
    """Output channels of every residual stage of a ``CENResNet``-like backbone
    (``base_channels * 2**i * block.expansion``)."""
    block, _ = resnet.arch_settings[resnet.depth]
    return tuple(base_channels * 2**i * block.expansion
                 for i in range(resnet.num_stages))


def build_stage_fusions(fusion: dict, stage_channels: Sequence[int],
                        stages: Sequence[int], num_streams: int,
                        owner: str) -> nn.ModuleDict:
    """One fusion block per stage in ``stages`` (keys ``'0'``..``'3'``), each built
    from ``fusion`` (e.g. ``dict(type='ConcatFusion')``) with ``channels`` = that
    stage's output channels and ``num_streams``."""
    if not isinstance(fusion, dict) or 'type' not in fusion:
        raise TypeError(f'{owner}: fusion must be a config dict with a type, e.g. '
                        f"dict(type='ConcatFusion'), got {fusion!r}")
    blocks = nn.ModuleDict()
    for i in stages:
        cfg = dict(fusion)
        if cfg.get('type') != 'AverageFusion':
            cfg['channels'] = stage_channels[i]
        cfg['num_streams'] = num_streams
        blocks[str(i)] = MODELS.build(cfg)
    return blocks


def fusion_losses(fusions: nn.ModuleDict,
                  prefix: str = 'loss_align') -> Dict[str, Tensor]:
    """The auxiliary losses the blocks kept from the last forward, summed over stages:
    ``{prefix: sum_i block_i.last_loss}`` if any block has ``last_loss``, else ``{}``."""
    losses = [block.last_loss for block in fusions.values()
              if isinstance(getattr(block, 'last_loss', None), Tensor)]
    return {prefix: torch.stack(losses).sum()} if losses else {}


@contextmanager
def without_fusions(backbone: nn.Module, name: str = 'fusions'):
    """Temporarily detach the submodule ``name`` (e.g. while a checkpoint without
    fusion weights is loaded strictly into the rest)."""
    blocks = getattr(backbone, name)
    delattr(backbone, name)  # nn.Module.__delattr__: unregisters the submodule
    try:
        yield
    finally:
        setattr(backbone, name, blocks)
