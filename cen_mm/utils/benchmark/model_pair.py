"""The CEN model and its compute floor, built from one config.

CEN shares every convolution between its M streams, which are stacked along the batch
dimension, so an M-stream CEN model on a batch of N does the arithmetic of *one*
ordinary network on a batch of M*N (the floor). :class:`ModelPair` builds

* **CEN**: the config's model (``CENEncoderDecoder`` + ``CENResNet`` or
  ``MultiStreamBackbone``; with ``backbone_only`` its backbone), M streams, input
  (N, sum C_m, S, S);
* **floor**: the same config with one stream of L = lcm(C_m) channels: for
  ``CENResNet``, ``exchange=False`` and every ``ModalityNorm`` replaced by its single
  plain norm layer; for ``MultiStreamBackbone``, its inner backbone as the stock
  mmseg / mmpretrain backbone; in mmseg's plain ``EncoderDecoder``, input
  (M*N, L, S, S), labels repeated M times.

Both are built from the same seed, so their convs have the same weights.
"""
import contextlib
import copy
import math
from typing import Callable, Optional

import torch
import torch.nn as nn


def forward_flops(fn: Callable[[], None]) -> int:
    """Convolution / matmul FLOPs of ``fn`` (torch's FlopCounterMode)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        fn()
    return counter.get_total_flops()



class FirstStream(nn.Module):
    """A one-stream ``CENResNet`` as an ordinary backbone: returns stream 0's tuple."""

    def __init__(self, backbone: nn.Module):
        super().__init__()
        self.backbone = backbone

    def forward(self, x):
        return self.backbone(x)[0]


def plain_norms(module: nn.Module) -> nn.Module:
    """Replace every one-stream ``ModalityNorm`` by its plain norm layer (in place)."""
    from cen_mm.core import ModalityNorm
    for name, child in module.named_children():
        if isinstance(child, ModalityNorm):
            if child.num_streams != 1 or child.exchange:
                raise ValueError(f'{name}: expected a one-stream ModalityNorm without '
                                 f'exchange, got {child}')
            setattr(module, name, child.norms[0])
        else:
            plain_norms(child)
    return module


def stream_channels(in_channels, streams: Optional[int]) -> tuple:
    in_channels = (in_channels, ) if isinstance(in_channels, int) else tuple(in_channels)
    if streams is None or streams == len(in_channels):
        return in_channels
    return tuple(in_channels[m % len(in_channels)] for m in range(streams))


def without_pretrained(backbone_cfg: dict) -> dict:
    """The backbone config with no checkpoint to load (random weights)."""
    cfg = dict(backbone_cfg)
    cfg.pop('pretrained', None)
    init_cfg = cfg.get('init_cfg')
    if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
        cfg['init_cfg'] = None
    elif isinstance(init_cfg, (list, tuple)):
        cfg['init_cfg'] = [c for c in init_cfg if c.get('type') != 'Pretrained'] or None
    return cfg


def cen_resnet_floor(backbone_cfg: dict, L: int) -> tuple:
    """``CENResNet``: the floor is the same class with one stream of L channels and no
    exchange, its one-stream ``ModalityNorm``s replaced by their plain norm layers."""
    floor_cfg = dict(backbone_cfg, in_channels=(L, ), exchange=False)
    return backbone_cfg, floor_cfg, lambda m: FirstStream(plain_norms(m))


def multi_stream_floor(backbone_cfg: dict, L: int) -> tuple:
    """``MultiStreamBackbone``: the floor is its inner backbone config built as it
    is, the stock mmseg / mmpretrain backbone with L input channels (no wrapper, its
    own norm layers), which returns the levels of one stream."""
    from cen_mm.models.backbones.multi_stream_backbone import _accepts_in_channels
    inner = without_pretrained(dict(backbone_cfg['backbone']))
    backbone_cfg = dict(backbone_cfg, backbone=inner)
    floor_cfg = dict(inner)
    if _accepts_in_channels(floor_cfg['type']):
        floor_cfg['in_channels'] = L
    return backbone_cfg, floor_cfg, lambda m: m


# backbone type -> (CEN backbone cfg, L) -> (CEN backbone cfg, floor backbone cfg,
# function making the built floor backbone return one stream's levels)
FLOOR_BUILDERS = {
    'CENResNet': cen_resnet_floor,
    'MultiStreamBackbone': multi_stream_floor,
}


class ModelPair:
    """The CEN model and its one-stream floor with inputs, labels and optimizers.

    Args:
        name: shown in errors.
        model_cfg: a ``CENEncoderDecoder`` config, or (``backbone_only``) a
            ``CENResNet`` / ``MultiStreamBackbone`` config.
        backbone_only: benchmark only the backbone (loss: sum of its outputs' means).
        streams: M; ``None``: the config's; other values repeat its modalities.
        batch, size: N per stream and the input side S.
        device, seed: where both models live; both are built from ``seed``.
        with_floor: ``False`` builds the CEN model only (``floor`` is None; the
            CEN model, inputs and labels are the same as with the floor).

    ``models()`` / ``callables`` are ``{'cen': ..., 'floor': ...}``; ``train_step(key)``
    and ``infer_step(key)`` return the zero-argument step to time.
    """

    def __init__(self, name: str, model_cfg: dict, backbone_only: bool,
                 streams: Optional[int], batch: int, size: int,
                 device: torch.device, seed: int, with_floor: bool = True):
        from mmengine.registry import MODELS
        from mmseg.registry import MODELS as SEG_MODELS
        self.name = name
        self.backbone_only = backbone_only
        model_cfg = copy.deepcopy(dict(model_cfg))
        if (backbone_only and 'backbone' in model_cfg
                and model_cfg.get('type') not in FLOOR_BUILDERS):
            model_cfg = dict(model_cfg['backbone'])
        backbone_cfg = model_cfg if backbone_only else dict(model_cfg['backbone'])
        if backbone_cfg.get('type') not in FLOOR_BUILDERS:
            raise ValueError(
                f'{name}: the backbone must be one of {sorted(FLOOR_BUILDERS)} (the '
                f'floor is built from it), got type={backbone_cfg.get("type")!r}')
        in_channels = stream_channels(backbone_cfg.get('in_channels', (3, 1)), streams)
        backbone_cfg = without_pretrained(backbone_cfg)
        backbone_cfg['in_channels'] = in_channels
        self.num_streams = M = len(in_channels)
        L = math.lcm(*in_channels)
        backbone_cfg, floor_backbone_cfg, as_floor = FLOOR_BUILDERS[
            backbone_cfg['type']](backbone_cfg, L)

        if backbone_only:
            torch.manual_seed(seed)
            self.cen = MODELS.build(backbone_cfg)
            torch.manual_seed(seed)
            self.floor = (as_floor(MODELS.build(floor_backbone_cfg)) if with_floor
                          else None)
            self.num_classes = None
        else:
            if model_cfg.get('type') != 'CENEncoderDecoder':
                raise ValueError(f'{name}: expected model type CENEncoderDecoder, got '
                                 f'{model_cfg.get("type")!r}')
            if model_cfg.get('neck') is not None:
                raise NotImplementedError(
                    f'{name}: configs with a neck are not supported (the floor needs '
                    'a one-stream equivalent of the neck)')
            model_cfg.pop('pretrained', None)
            cen_cfg = dict(model_cfg, backbone=backbone_cfg)
            floor_cfg = dict(model_cfg, type='EncoderDecoder',
                             backbone=floor_backbone_cfg)
            for key in ('num_streams', 'stack_streams', 'shared_heads', 'head_norms'):
                floor_cfg.pop(key, None)
            floor_cfg['test_cfg'] = {k: v for k, v in
                                     dict(model_cfg.get('test_cfg') or {}).items()
                                     if k != 'output'}
            torch.manual_seed(seed)
            self.cen = SEG_MODELS.build(cen_cfg)
            self.floor = None
            if with_floor:
                torch.manual_seed(seed)
                self.floor = SEG_MODELS.build(floor_cfg)
                self.floor.backbone = as_floor(self.floor.backbone)
            self.num_classes = self.cen.decode_head.num_classes
        for model in self.models().values():
            model.to(device)

        gen = torch.Generator().manual_seed(seed)
        self.cen_inputs = torch.randn(batch, sum(in_channels), size, size,
                                      generator=gen).to(device)
        self.floor_inputs = torch.randn(M * batch, L, size, size,
                                        generator=gen).to(device)
        self.cen_samples = self.floor_samples = None
        if not backbone_only:
            self.cen_samples = make_seg_samples(batch, size, self.num_classes, gen,
                                                device)
            self.floor_samples = [copy.deepcopy(s) for _ in range(M)
                                  for s in self.cen_samples]
        self.optimizers = {
            key: torch.optim.SGD(model.parameters(), lr=1e-9, momentum=0.9,
                                 weight_decay=1e-5)
            for key, model in self.models().items()}

        # what the steps call: the models, or their torch.compile wrappers
        self.callables = self.models()
        self.amp = False
        self.device = device

    def models(self):
        """``{'cen': model, 'floor': model}`` (without ``'floor'`` if not built)."""
        return {key: model for key, model in (('cen', self.cen), ('floor', self.floor))
                if model is not None}

    def compile(self, backend: str) -> None:
        """Let every step call ``torch.compile(model, backend=backend)`` (compiled on
        the first call of each mode)."""
        self.callables = {key: torch.compile(model, backend=backend)
                          for key, model in self.models().items()}

    def _autocast(self):
        """bfloat16 autocast with ``--amp``, else nothing."""
        if not self.amp:
            return contextlib.nullcontext()
        return torch.autocast(self.device.type, dtype=torch.bfloat16)

    # ---- steps ----------------------------------------------------------------------
    def loss(self, key: str) -> torch.Tensor:
        """The training loss of ``'cen'`` or ``'floor'`` (autocast with ``amp``)."""
        with self._autocast():
            return self._forward_loss(key)

    def _forward_loss(self, key: str) -> torch.Tensor:
        model = self.callables[key]
        if self.backbone_only:
            out = model(self.cen_inputs if key == 'cen' else self.floor_inputs)
            levels = [t for stream in out for t in stream] if key == 'cen' else out
            scale = 1 / self.num_streams if key == 'cen' else 1.0
            return sum(t.float().mean() for t in levels) * scale
        inputs = self.cen_inputs if key == 'cen' else self.floor_inputs
        samples = self.cen_samples if key == 'cen' else self.floor_samples
        loss, _ = self.models()[key].parse_losses(model(inputs, samples, mode='loss'))
        return loss

    def train_step(self, key: str) -> Callable[[], None]:
        model, optimizer = self.models()[key], self.optimizers[key]

        def step():
            # gradients stay allocated (zeroed): the step's memory peak is then the
            # activations and temporaries, the gradients count as static memory
            optimizer.zero_grad(set_to_none=False)
            loss = self.loss(key)
            loss.backward()
            optimizer.step()

        return step

    def infer_step(self, key: str) -> Callable[[], None]:
        model = self.callables[key]
        inputs = self.cen_inputs if key == 'cen' else self.floor_inputs

        def step():
            with torch.no_grad(), self._autocast():
                if self.backbone_only:
                    model(inputs)
                else:
                    model(inputs, mode='tensor')

        return step

    def set_mode(self, phase: str) -> None:
        for model in self.models().values():
            model.train(phase == 'train')


def make_seg_samples(batch: int, size: int, num_classes: int, gen: torch.Generator,
                     device: torch.device) -> list:
    """``batch`` SegDataSamples with random labels (5% ignored, 255)."""
    from mmengine.structures import PixelData
    from mmseg.structures import SegDataSample
    samples = []
    for _ in range(batch):
        label = torch.randint(0, num_classes, (1, size, size), generator=gen)
        label[torch.rand(1, size, size, generator=gen) < 0.05] = 255
        sample = SegDataSample(metainfo=dict(img_shape=(size, size),
                                             pad_shape=(size, size),
                                             ori_shape=(size, size)))
        sample.gt_sem_seg = PixelData(data=label.to(device))
        samples.append(sample)
    return samples


@torch.no_grad()
def set_exchange_fraction(model: nn.Module, frac: float, seed: int) -> float:
    """Put |γ| = θ/2 on ``frac`` of each stream's own sub-part of every exchanging
    norm (γ = 1 elsewhere); return the fraction of (stream, channel) pairs exchanged."""
    from cen_mm.core import iter_exchanging_norms
    gen = torch.Generator().manual_seed(seed)
    exchanged = total = 0
    for _, norm in iter_exchanging_norms(model):
        for m in range(norm.num_streams):
            weight = norm.norms[m].weight
            weight.fill_(1.0)
            owned = norm.owner_mask[m].nonzero().squeeze(1).cpu()
            count = int(round(frac * owned.numel()))
            chosen = owned[torch.randperm(owned.numel(), generator=gen)[:count]]
            weight[chosen.to(weight.device)] = norm.threshold / 2
        mask = norm.exchange_mask()
        exchanged += int(mask.sum())
        total += mask.numel()
    return exchanged / max(total, 1)
