"""Does CEN compute the same on an accelerator as on the CPU?

Two checks for ``tools/analysis_tools/gpu_benchmark.py --check``:

* :func:`compare_with_cpu`: one CEN model built from the same seed in float32 on the
  device, in float32 on the CPU and in float64 on the CPU (the reference), the same
  inputs and exchanged channels, dropout off, no TF32; the relative errors of the
  inference logits, the training loss and the parameter gradients of both float32
  runs against the reference: on a correct device they are of the same order
  (rounding; a gradient that is zero in exact arithmetic, e.g. a bias followed by
  batch-statistics BN, has rounding-sized values and relative errors near 1 on both);
* :func:`compare_exchange_paths`: the exchange's sync-free masked blend (what
  accelerators run under ``torch.compile`` or without host patterns) against its
  indexed path, on the device: ``torch.equal`` of the values and of the input
  gradient.
"""
import contextlib
from typing import Optional

import torch
import torch.nn as nn

from .model_pair import ModelPair, set_exchange_fraction


def relative_error(value: torch.Tensor, reference: torch.Tensor) -> float:
    """||value - reference|| / ||reference|| in float64 on the CPU (0 if both are 0)."""
    value = value.detach().double().cpu()
    reference = reference.detach().double().cpu()
    norm = reference.norm().item()
    diff = (value - reference).norm().item()
    return diff / norm if norm else diff


def without_dropout(model: nn.Module) -> nn.Module:
    """Switch off every dropout and drop-path (their random draws differ between
    devices); in place."""
    for module in model.modules():
        if isinstance(module, nn.modules.dropout._DropoutNd):
            module.p = 0.0
        if hasattr(module, 'drop_prob'):  # mmcv's DropPath
            module.drop_prob = 0.0
    return model


@contextlib.contextmanager
def exact_float32():
    """float32 matmuls and convolutions without TF32 (restored afterwards)."""
    saved = (torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = saved


def flat_tensors(value) -> torch.Tensor:
    """Every tensor in ``value`` (a tensor, or nested lists / tuples / dicts of
    them), flattened and concatenated in order."""
    if isinstance(value, torch.Tensor):
        return value.detach().flatten()
    if isinstance(value, dict):
        value = list(value.values())
    return torch.cat([flat_tensors(v) for v in value])


def _outputs(pair: ModelPair) -> torch.Tensor:
    with torch.no_grad():
        if pair.backbone_only:
            return flat_tensors(pair.cen(pair.cen_inputs))
        return flat_tensors(pair.cen(pair.cen_inputs, mode='tensor'))


def _gradients(pair: ModelPair) -> dict:
    return {name: p.grad for name, p in pair.cen.named_parameters()
            if p.grad is not None}


def compare_with_cpu(name: str, model_cfg: dict, device: torch.device,
                     backbone_only: bool = False, streams: Optional[int] = None,
                     batch: int = 2, size: int = 64, exchange_frac: float = 0.2,
                     seed: int = 0) -> dict:
    """One inference and one training step of the config's CEN model in float32 on
    ``device`` and on the CPU, each against the same steps in float64 on the CPU
    (the reference). Returns ``dict(exchanged, device=..., cpu=...)``, each of the
    two a dict of relative errors to the reference: ``logits``, ``loss``,
    ``grads`` (all gradients together) and ``grad`` (the largest of one
    parameter's, at ``grad_name``; for the CPU entry, that same parameter's).
    Rounding alone gives the device errors of the order of the CPU's."""
    runs = {}
    for key, where, dtype in (('reference', 'cpu', torch.float64),
                              ('cpu', 'cpu', torch.float32),
                              ('device', device.type, torch.float32)):
        pair = ModelPair(name, model_cfg, backbone_only, streams, batch, size,
                         torch.device(where) if where == 'cpu' else device, seed,
                         with_floor=False)
        without_dropout(pair.cen)
        exchanged = set_exchange_fraction(pair.cen, exchange_frac, seed)
        pair.cen.to(dtype)
        pair.cen_inputs = pair.cen_inputs.to(dtype)
        with exact_float32():
            pair.set_mode('infer')
            logits = _outputs(pair)
            pair.set_mode('train')
            pair.cen.zero_grad(set_to_none=True)
            loss = pair.loss('cen')
            loss.backward()
        runs[key] = dict(logits=logits, loss=loss.detach(), grads=_gradients(pair))
        del pair
    reference = runs['reference']
    result = dict(exchanged=exchanged)
    for key in ('device', 'cpu'):
        run = runs[key]
        names = list(reference['grads'])
        result[key] = dict(
            logits=relative_error(run['logits'], reference['logits']),
            loss=relative_error(run['loss'], reference['loss']),
            grads=relative_error(flat_tensors([run['grads'][n] for n in names]),
                                 flat_tensors([reference['grads'][n] for n in names])),
            per_param={n: relative_error(run['grads'][n], reference['grads'][n])
                       for n in names})
    worst = max(result['device']['per_param'], key=result['device']['per_param'].get)
    for key in ('device', 'cpu'):
        result[key]['grad'] = result[key].pop('per_param')[worst]
    result['grad_name'] = worst
    return result


def compare_exchange_paths(device: torch.device, num_streams: int, seed: int = 0,
                           batch: int = 2, channels: int = 64, side: int = 16) -> bool:
    """The sync-free and the indexed exchange on ``device``: equal values and input
    gradients (``torch.equal``) for random features and a random (M, C) mask?"""
    from cen_mm.core.exchange import channel_exchange
    gen = torch.Generator().manual_seed(seed)
    shape = (num_streams, batch, channels, side, side)
    x = torch.randn(num_streams * batch, channels, side, side, generator=gen)
    mask = torch.rand(num_streams, channels, generator=gen) < 0.3
    grad = torch.randn(x.shape, generator=gen)
    results = []
    for sync_free in (True, False):
        leaf = x.to(device).requires_grad_()
        y = channel_exchange(leaf * 1.0, mask.to(device), streams_shape=shape,
                             sync_free=sync_free)
        y.backward(grad.to(device))
        results.append((y.detach().cpu(), leaf.grad.cpu()))
    (y_free, g_free), (y_indexed, g_indexed) = results
    return torch.equal(y_free, y_indexed) and torch.equal(g_free, g_indexed)
