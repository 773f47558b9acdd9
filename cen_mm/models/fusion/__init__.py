"""Multimodal fusion blocks (scope-neutral, mmengine root ``MODELS``): the fusion
baselines of the CEN papers (NeurIPS'20 Table 2 / 4, supplementary §2).

Every block maps M per-stream feature maps, each (N, C, H, W), to one fused
(N, C, H, W) map: ``fused = block([x_1, ..., x_M])``.

* :class:`ConcatFusion`  -- concatenation + 1x1 conv back to C.
* :class:`AverageFusion` -- mean of the streams (no parameters).
* :class:`SSMAFusion`    -- SSMA self-attention block (Valada et al., IJCV 2020).
* :class:`AlignFusion`   -- fusion by alignment (Wang et al., ECCV 2016): MK-MMD between
  the streams' common features, kept in ``last_loss``.
"""
from .align_fusion import AlignFusion
from .average_fusion import AverageFusion
from .base_fusion import BaseFusion
from .concat_fusion import ConcatFusion
from .mk_mmd import gaussian_kernel_bandwidths, mk_mmd
from .ssma_fusion import SSMAFusion

__all__ = [
    'BaseFusion', 'ConcatFusion', 'AverageFusion', 'SSMAFusion', 'AlignFusion', 'mk_mmd',
    'gaussian_kernel_bandwidths'
]
