"""Layer-wise learning-rate decay for a backbone wrapped in ``MultiStreamBackbone``.

mmseg 1.2.2's ``LearningRateDecayOptimizerConstructor`` (the constructor of mmseg's
ConvNeXt UPerNet recipes) decides each parameter's layer id from its name and from the
class name of ``model.backbone``; it recognises a bare ConvNeXt (or BEiT / MAE) only.
Inside :class:`~cen_mm.models.backbones.MultiStreamBackbone` the names differ: the
stock backbone sits one level deeper (``backbone.backbone.stages.2.4...``) and every
norm holds M private copies (``...stages.2.4.norm.norms.1.weight``).

:class:`MultiStreamLayerDecayOptimizerConstructor` hands the parent a view of the model
in which every parameter carries the name the same parameter has in the stock
single-stream model (``backbone.stages.2.4.norm.weight``; the map is the one checkpoint
inflation uses, :func:`single_stream_key_map`) and ``backbone`` is the inner stock
backbone. So the parent computes the layer ids, scales and weight decay exactly as for
a bare backbone, and each stream's private norm gets the learning rate of the layer it
belongs to. The groups' ``param_names`` are then given back their real names. Models
whose ``backbone`` is not a ``MultiStreamBackbone`` are passed to the parent unchanged.

Config (mmseg's ConvNeXt-B recipe,
``configs/convnext/convnext-base_upernet_8xb2-amp-160k_ade20k-512x512.py``)::

    optim_wrapper = dict(
        type='OptimWrapper',
        optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
        constructor='MultiStreamLayerDecayOptimizerConstructor',
        paramwise_cfg=dict(decay_rate=0.9, decay_type='stage_wise', num_layers=12))
"""
from typing import Dict, Iterator, List, Tuple

import torch.nn as nn
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS
from mmseg.engine.optimizers import LearningRateDecayOptimizerConstructor

from cen_mm.models.backbones.checkpoint_inflation import single_stream_key_map

INNER_PREFIX = 'backbone.backbone.'  # MultiStreamBackbone's stock backbone


class _SingleStreamNamedView:
    """What the parent's ``add_params`` reads of a model: ``backbone`` (its class
    name selects the layer-id rule) and ``named_parameters()`` (names -> layer ids),
    here with the stock single-stream names."""

    def __init__(self, model: nn.Module, names: Dict[str, str]):
        self.backbone = model.backbone.backbone
        self._model = model
        self._names = names

    def named_parameters(self) -> Iterator[Tuple[str, nn.Parameter]]:
        for name, param in self._model.named_parameters():
            yield self._names.get(name, name), param


def single_stream_parameter_names(model: nn.Module) -> Dict[str, str]:
    """``model``'s parameter names under its ``MultiStreamBackbone`` -> the names of the
    same parameters in the stock model (``backbone.backbone.X.norms.m.weight`` ->
    ``backbone.X.weight``). Other parameters are not in the map."""
    inner_map = single_stream_key_map(model.backbone.backbone)
    names = {}
    for name, _ in model.named_parameters():
        if name.startswith(INNER_PREFIX):
            names[name] = 'backbone.' + inner_map[name[len(INNER_PREFIX):]]
    return names


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MultiStreamLayerDecayOptimizerConstructor(LearningRateDecayOptimizerConstructor):
    """mmseg's ``LearningRateDecayOptimizerConstructor`` for segmentors whose backbone
    is a ``MultiStreamBackbone`` (see the module docstring). Same ``paramwise_cfg``
    (``decay_rate``, ``decay_type``, ``num_layers``) and the same groups (``lr``,
    ``lr_scale``, ``weight_decay``, ``group_name``, ``param_names`` with the real
    names)."""

    def add_params(self, params: List[dict], module: nn.Module, **kwargs) -> None:
        from cen_mm.models.backbones.multi_stream_backbone import MultiStreamBackbone
        backbone = getattr(module, 'backbone', None)
        if not isinstance(backbone, MultiStreamBackbone):
            super().add_params(params, module, **kwargs)
            return
        family = type(backbone.backbone).__name__
        if not any(k in family for k in ('ConvNeXt', 'BEiT', 'MAE')):
            raise ValueError(
                f'{type(self).__name__}: layer-wise lr decay is defined by mmseg for '
                f'ConvNeXt, BEiT and MAE backbones only, but '
                f'model.backbone.backbone is {family}. Use another optimizer '
                f'constructor (e.g. drop `constructor=` and `paramwise_cfg=`).')
        names = single_stream_parameter_names(module)
        first = len(params)
        super().add_params(params, _SingleStreamNamedView(module, names), **kwargs)
        # give the groups' bookkeeping names back their real (multi-stream) names
        by_id = {id(p): n for n, p in module.named_parameters()}
        for group in params[first:]:
            group['param_names'] = [by_id[id(p)] for p in group['params']]
