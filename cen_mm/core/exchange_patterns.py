"""Host patterns of ``|γ| < θ``: one read on the host for all exchanging norms.

On an accelerator, the exchanged channels of a norm are known only on the device. To
index just those (what the CPU does), every exchanging layer would read its (M, C)
mask on the host: one synchronisation per layer and forward (33 in a ResNet-101). The
sync-free masked blend avoids that but moves every value of the M streams several
times, forward and backward.

Instead, a CEN backbone on an accelerator calls :func:`refresh_host_patterns` at the
start of its forward. It copies γ of every exchanging norm whose γ changed since the
last read (after each optimizer step: all of them; in evaluation: none) to the host
in **one** transfer, and each norm records its (M, C) pattern
(:meth:`~cen_mm.core.ModalityNorm.set_host_below_pattern`). While that pattern is
fresh (γ the same tensors at the same ``_version``), the norms take the indexed paths
with indices built on the host: at most one synchronisation per forward for all
layers, and the same values and gradients as the blend (bit for bit; tested).

Like the norms' other kept values it relies on ``_version``. γ changed through
``.data`` (which does not count; mmengine's ``EMAHook`` swaps weights that way around
validation) is caught by a change of the train/eval mode, which drops the patterns
(:meth:`~cen_mm.core.ModalityNorm.train`), by ``KeptValuesHook`` around evaluation,
or after :func:`forget_host_patterns`.

``with host_patterns(False):`` turns them off (every forward then takes the sync-free
blend on accelerators), e.g. to compare both paths or to rule them out when debugging.
"""
import contextlib
from collections import defaultdict
from typing import Iterator, List

import torch
import torch.nn as nn

from .exchange import _is_compiling
from .modality_norm import ModalityNorm


def pattern_norms(model: nn.Module) -> List[ModalityNorm]:
    """The norms of ``model`` that use host patterns: exchanging ``ModalityNorm``s
    (and subclasses) with the threshold rule (no exchange policy or replacement).
    Found once and kept on ``model`` (walking a ResNet-101's ~600 modules costs
    ~0.4 ms, every forward); :func:`forget_host_patterns` drops the list, e.g.
    after replacing norms in a model that already ran."""
    kept = model.__dict__.get('_cen_pattern_norms')
    if kept is None or kept[0] is not model:  # none yet, or a shallow copy's
        # (a copy that shares the dict, e.g. a DataParallel replica, finds its own;
        # deepcopy maps both entries to the copy)
        kept = (model, [m for m in model.modules()
                        if isinstance(m, ModalityNorm) and m.exchange
                        and m.exchange_policy is None
                        and m.exchange_replacement is None])
        model.__dict__['_cen_pattern_norms'] = kept
    return kept[1]


def refresh_host_patterns(model: nn.Module) -> int:
    """Record a fresh host pattern in every norm of :func:`pattern_norms` whose
    pattern is missing or stale; returns the number of device-to-host transfers
    (one per device holding such γ; 0 when all are fresh). Nothing while
    compiling (the traced paths stay sync-free)."""
    if _is_compiling():
        return 0
    stale = defaultdict(list)  # device -> norms
    for norm in pattern_norms(model):
        if norm.host_below_pattern() is None:
            stale[norm.norms[0].weight.device].append(norm)
    for norms in stale.values():
        with torch.no_grad():
            # (exchanging norms are never shared: one layer per stream)
            magnitudes = torch.cat([layer.weight.reshape(-1) for norm in norms
                                    for layer in norm.norms]).cpu().abs()
        # the device path's comparison (float32 against the Python float θ), once
        # per distinct θ over all norms
        below = {theta: magnitudes < theta for theta in {n.threshold for n in norms}}
        offset = 0
        for norm in norms:
            size = norm.num_streams * norm.num_features
            norm.set_host_below_pattern(below[norm.threshold][offset:offset + size]
                                        .view(norm.num_streams, norm.num_features))
            offset += size
    return len(stale)


def forget_host_patterns(model: nn.Module) -> None:
    """Drop every recorded host pattern and the list of :func:`pattern_norms` (the
    next forward finds the norms and reads γ again)."""
    for norm in pattern_norms(model):
        norm.set_host_below_pattern(None)
    model.__dict__.pop('_cen_pattern_norms', None)


_ENABLED = [True]  # host_patterns() sets it


@contextlib.contextmanager
def host_patterns(enabled: bool) -> Iterator[None]:
    """Within the block, CEN backbones on accelerators use host patterns
    (``enabled=True``, the default outside any block) or not: then every forward
    drops the recorded ones, and the norms take the sync-free masked blend."""
    previous = _ENABLED[0]
    _ENABLED[0] = bool(enabled)
    try:
        yield
    finally:
        _ENABLED[0] = previous


def refresh_on_accelerator(model: nn.Module, x: torch.Tensor) -> None:
    """What CEN backbones call first in ``forward``: :func:`refresh_host_patterns`
    when the input lives on an accelerator (on the CPU reading a mask costs
    nothing, and the norms read it themselves); under ``host_patterns(False)``
    the recorded patterns are dropped instead."""
    if x.device.type == 'cpu':
        return
    if _ENABLED[0]:
        refresh_host_patterns(model)
    else:
        for norm in pattern_norms(model):
            norm.set_host_below_pattern(None)
