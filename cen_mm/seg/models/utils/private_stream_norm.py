"""``PrivateStreamNorm``: a :class:`~cen_mm.core.ModalityNorm` usable as an mmcv
``norm_cfg`` type, so that stock heads (PSPHead, FCNHead, ...) get one private norm
layer per stream behind their shared convs.

The CEN papers share every parameter between the streams *except* the norm layers;
that holds for the decode heads as well as for the encoder. A stock mmseg head builds
its norms with ``mmcv.cnn.build_norm_layer(norm_cfg, C)``; with ::

    norm_cfg=dict(type='PrivateStreamNorm', num_streams=M, norm_cfg=dict(type='BN'))

every such norm becomes M ordinary BN layers (``norms.{m}.*`` in the state dict), each
normalising only its own stream's rows of the stream-major (M*N, C, H, W) batch (in
training: its own batch statistics and running statistics). ``CENEncoderDecoder``
writes this wrapper into its heads' ``norm_cfg`` itself (``head_norms='private'``,
the default), so configs keep the usual ``norm_cfg=dict(type='BN')``.

Registered in mmengine's root ``MODELS`` (like ``ModalityNorm``), which is where mmcv's
norm builder looks from any scope.
"""
from typing import Optional

from mmengine.registry import MODELS

from cen_mm.core import ModalityNorm


@MODELS.register_module()
class PrivateStreamNorm(ModalityNorm):
    """M private norm layers over a stream-major stacked batch, without exchange.

    Args:
        num_features: channels C (passed positionally by ``build_norm_layer``).
        num_streams: M.
        norm_cfg: config of one private layer (mmcv style); default ``dict(type='BN')``.
        eps, momentum: what ``build_norm_layer`` adds to every norm config (``eps``
            defaults to 1e-5 there); they go into each private layer's config
            unless ``norm_cfg`` sets them itself.

    Shapes: input and output (M*N, C, *S), rows ``[m*N, (m+1)*N)`` = stream m.
    """

    # name inside mmcv's ConvModule (``norm`` is taken by its property):
    # ``<conv module>.norm_layer.norms.{m}.*`` in the state dict
    _abbr_ = 'norm_layer'

    def __init__(self,
                 num_features: int,
                 num_streams: int,
                 norm_cfg: Optional[dict] = None,
                 eps: Optional[float] = None,
                 momentum: Optional[float] = None):
        norm_cfg = dict(type='BN') if norm_cfg is None else dict(norm_cfg)
        if norm_cfg.get('type') == type(self).__name__:
            raise ValueError(f'{type(self).__name__}: norm_cfg must describe one '
                             f'ordinary norm layer, got {norm_cfg}')
        if eps is not None:
            norm_cfg.setdefault('eps', eps)
        if momentum is not None:
            norm_cfg.setdefault('momentum', momentum)
        super().__init__(num_features, num_streams, norm_cfg=norm_cfg, exchange=False)
