"""Fused per-stream LayerNorm + channel exchange on the CPU (a C++ op built at first
use), for :class:`~cen_mm.core.modality_layer_norm.ModalityLayerNorm`.

Eager PyTorch needs, per exchanging LayerNorm, one ``layer_norm`` per stream, a
concatenation and four column passes of indexing over channel-last tokens (each
touches every cache line); on MiT-B2 at 256 px that made the private LayerNorms 2–3×
the stock layer's time. ``csrc/stream_layer_norm.cpp`` runs ATen's own LayerNorm
kernel per stream straight into the stream's slice of one output and exchanges each
chunk of rows while it is in the cache; backward builds the exchanged gradient chunk
by chunk and runs ATen's LayerNorm backward kernel per stream. Values and gradients
are bit-identical to the eager path (per-stream ``F.layer_norm`` +
:func:`~cen_mm.core.exchange.exchange_by_indices`;
``tests/test_ops/test_stream_layer_norm.py``).

Built with ``torch.utils.cpp_extension.load`` (ninja and a C++ compiler, which the
set-up installs to build mmcv) into ``$CEN_MM_EXT_DIR`` (default
``~/.cache/cen_mm/torch_extensions/torch-<version>``), once per torch version (~10 s).
Where it cannot be built or loaded, or fails its self-check, a warning says why and
``ModalityLayerNorm`` keeps the eager path (same values, slower). ``CEN_MM_EXT=0``
switches it off. Used for float32 CPU tensors, not while ``torch.compile`` traces, not
under CPU autocast (see :func:`applicable`).
"""
import logging
import os
import platform
import warnings
from pathlib import Path
from typing import Optional, Sequence

import torch
from torch.autograd.function import once_differentiable

SOURCE = Path(__file__).parent / 'csrc' / 'stream_layer_norm.cpp'
# What torch's own x86-64 builds define: ATen's dispatch stubs (the LayerNorm kernels
# are called through one) are compiled with these, and the exported symbol of
# DispatchStubImpl::get_call_ptr has one pointer argument per defined capability.
_X86_STUB_FLAGS = ['-DHAVE_AVX512_CPU_DEFINITION', '-DHAVE_AVX2_CPU_DEFINITION']

# Without exchange the op only saves the eager path's concatenation, and its fixed cost
# per call (a Python autograd.Function; ~40 us more than the eager path's ATen nodes,
# forward + backward) is larger than that below about 50 000 elements (measured on
# MiT-B2 / Swin shapes, 1 thread): ModalityLayerNorm uses it from this size on.
MIN_NUMEL_WITHOUT_EXCHANGE = 1 << 16

# None: not tried yet; True / False: loaded and checked / unavailable this process
_LOADED: dict = {'ok': None, 'why': ''}


def build_directory() -> Path:
    """Where the op is built: ``$CEN_MM_EXT_DIR`` or
    ``~/.cache/cen_mm/torch_extensions/torch-<version>``."""
    root = os.environ.get('CEN_MM_EXT_DIR')
    if root:
        return Path(root)
    version = torch.__version__.replace('+', '_')
    return Path.home() / '.cache' / 'cen_mm' / 'torch_extensions' / f'torch-{version}'


def _build_and_load() -> None:
    cpp_extension_log = logging.getLogger('torch.utils.cpp_extension')
    level = cpp_extension_log.level
    cpp_extension_log.setLevel(logging.ERROR)  # its CUDA_HOME notice on import
    try:
        from torch.utils.cpp_extension import load
    finally:
        cpp_extension_log.setLevel(level)
    if platform.machine().lower() not in ('x86_64', 'amd64'):
        raise RuntimeError(f'built for x86-64 only, this is {platform.machine()}')
    directory = build_directory()
    directory.mkdir(parents=True, exist_ok=True)
    from mmengine.logging import print_log
    print_log(f'cen_mm: loading the fused stream LayerNorm op (built in {directory} '
              'on first use, ~10 s)', logger='current')
    load(name='cen_mm_stream_layer_norm', sources=[str(SOURCE)],
         build_directory=str(directory), is_python_module=False, verbose=False,
         extra_cflags=['-O3', *_X86_STUB_FLAGS])


def _self_check() -> None:
    """One small call against the eager path: a build against mismatching headers must
    not change any value silently."""
    from cen_mm.core.exchange import exchange_by_indices
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(4, 5, 8, generator=gen)
    weights = list(torch.randn(2, 8, generator=gen).unbind())
    biases = list(torch.randn(2, 8, generator=gen).unbind())
    streams, channels = torch.tensor([0, 1]), torch.tensor([2, 5])
    fused = torch.ops.cen_mm.stream_layer_norm(x, weights, biases, 1e-5, streams,
                                               channels)[0]
    eager = torch.cat([torch.nn.functional.layer_norm(x_m, (8, ), w, b, 1e-5)
                       for x_m, w, b in zip(x.chunk(2), weights, biases)])
    eager = exchange_by_indices(eager, [torch.tensor([2]), torch.tensor([5])],
                                (2, 10, 8))
    if not torch.equal(fused, eager):
        raise RuntimeError('its values differ from the eager path')


def available() -> bool:
    """Whether the op is loaded (building it on the first call); False with one
    warning where it cannot be, or when ``CEN_MM_EXT=0``."""
    if _LOADED['ok'] is None:
        if os.environ.get('CEN_MM_EXT', '1') == '0':
            _LOADED.update(ok=False, why='CEN_MM_EXT=0')
            return False
        try:
            if not hasattr(torch.ops.cen_mm, 'stream_layer_norm'):
                _build_and_load()
            _self_check()
            _LOADED.update(ok=True, why='')
        except Exception as error:  # any build / load failure: the eager path
            _LOADED.update(ok=False, why=f'{type(error).__name__}: {error}')
            warnings.warn(
                'cen_mm: the fused stream LayerNorm op is not available '
                f'({_LOADED["why"]}); ModalityLayerNorm uses the eager path (same '
                'values, slower). It needs a C++ compiler and ninja (the set-up '
                'installs both); CEN_MM_EXT=0 silences this.', stacklevel=2)
    return bool(_LOADED['ok'])


def status() -> str:
    """``'on'``, or ``'off (<why>)'``: for logs and benchmark headers."""
    return 'on' if available() else f'off ({_LOADED["why"]})'


def applicable(x: torch.Tensor, weights: Sequence[torch.Tensor]) -> bool:
    """Whether :func:`stream_layer_norm` serves this call: float32 on the CPU, eager
    (not traced by ``torch.compile``), CPU autocast off, and the op available."""
    return (x.device.type == 'cpu' and x.dtype == torch.float32
            and all(w.dtype == torch.float32 for w in weights)
            and not torch.compiler.is_compiling()
            and not torch.is_autocast_enabled('cpu') and available())


class _StreamLayerNorm(torch.autograd.Function):
    """Autograd of the op; inputs: ``x, streams, channels, eps, M, *weights,
    *biases``."""

    @staticmethod
    def forward(ctx, x, streams, channels, eps, num_streams, *params):
        weights, biases = params[:num_streams], params[num_streams:]
        y, mean, rstd = torch.ops.cen_mm.stream_layer_norm(x, weights, biases, eps,
                                                           streams, channels)
        ctx.save_for_backward(x, mean, rstd, streams, channels, *weights)
        return y

    @staticmethod
    @once_differentiable
    def backward(ctx, grad):
        x, mean, rstd, streams, channels, *weights = ctx.saved_tensors
        grads = torch.ops.cen_mm.stream_layer_norm_backward(grad, x, mean, rstd,
                                                            weights, streams, channels)
        return (grads[0], None, None, None, None, *grads[1:])


def stream_layer_norm(x: torch.Tensor, weights: Sequence[torch.Tensor],
                      biases: Sequence[torch.Tensor], eps: float,
                      exchanged: Optional[tuple] = None) -> torch.Tensor:
    """LayerNorm over the last dim of M stacked streams with their own affine, and the
    exchange.

    Args:
        x: (M*N, *S, C), stream-major (made contiguous).
        weights, biases: M tensors (C,) each.
        eps: LayerNorm's ε.
        exchanged: ``(streams, channels)``, two int64 (K,) tensors of the replaced
            (stream, channel) pairs, sorted stream-major (``mask.nonzero()``'s
            columns); None or K = 0: no exchange.

    Returns:
        (M*N, *S, C), a new contiguous tensor.
    """
    if exchanged is None:
        exchanged = (_NO_PAIRS, _NO_PAIRS)
    x = x.contiguous()
    weights = [w.contiguous() for w in weights]
    biases = [b.contiguous() for b in biases]
    if not torch.is_grad_enabled() or not (
            x.requires_grad or any(p.requires_grad for p in (*weights, *biases))):
        return torch.ops.cen_mm.stream_layer_norm(x, weights, biases, eps,
                                                  *exchanged)[0]
    return _StreamLayerNorm.apply(x, *exchanged, eps, len(weights), *weights, *biases)


_NO_PAIRS = torch.zeros(0, dtype=torch.long)
