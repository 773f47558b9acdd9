"""``CENEncoderDecoder``: mmseg's EncoderDecoder for M streams with a learned ensemble.

The backbone (e.g. ``CENResNet``) returns :class:`~cen_mm.core.MultiStreamFeatures`:
the M streams' levels stacked stream-major along the batch. One decode head (and
optional auxiliary heads) is *shared* by all streams and runs once on the stacked levels
(M*N, C_l, H_l, W_l); every stream predicts, and the ensemble module
(``ensemble=dict(type='StreamEnsemble')``, :mod:`cen_mm.core.stream_ensemble`) combines

    ens = sum_m softmax(alpha)_m * detach(logits_m)        (official CEN, alpha init 1)

or, with ``ensemble=dict(type='ConcatFusionEnsemble')``, fuses the concatenated stream
logits with a 1x1 conv (NeurIPS'20 §4.1 ablation 4).

Training losses: every stream (``s{m}.decode.*``, ``s{m}.aux.*``) and the ensemble
(``ens.decode.*``). Because stream logits are detached in the ensemble, the ensemble
loss trains the ensemble module (``ensemble.alpha``) only.

Heads (CEN shares every parameter except the norm layers):

* ``head_norms='private'`` (default): a head built with a ``norm_cfg`` (PSPHead,
  FCNHead, ...) gets one private norm layer per stream behind its shared convs
  (:class:`~cen_mm.seg.models.utils.PrivateStreamNorm`): stream m's rows are normalised
  with stream m's statistics and γ/β only, as in the encoder. Such a head always runs
  on all M streams stacked along the batch. ``'shared'``: one norm for the stacked
  streams (statistics of all streams' samples together).
* ``shared_heads=False``: every stream has its own copy of each head
  (:class:`~cen_mm.seg.models.utils.StreamHeads`); with
  ``CENResNet(shared_convs=False)`` the streams are separate networks, decoder included (the papers' "unshared" rows).

Only ``extract_feat``/``encode_decode``/``loss``/``_forward`` are overridden, so mmseg's
whole / slide inference, ``predict`` post-processing and ``--tta`` work unchanged.
``test_cfg.output`` chooses what inference returns: ``'ensemble'`` (default) or a stream
index, e.g. ``--cfg-options model.test_cfg.output=1`` to evaluate stream 1 alone.
``test_cfg.stream_predictions=True`` additionally stores every stream's prediction as
``pred_sem_seg_s{m}`` so ``StreamIoUMetric`` reports all of them in one evaluation.
"""
from typing import List, Optional, Union

import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmseg.models.segmentors import EncoderDecoder
from mmseg.registry import MODELS
from mmseg.utils import OptSampleList, SampleList, add_prefix
from torch import Tensor

from cen_mm.core import (ENSEMBLE, ModalityNorm, MultiStreamFeatures,
                         as_multi_stream, build_stream_ensemble, load_legacy_alpha,
                         stream_name)
from ..utils import StreamHeads

HEAD_NORMS = ('private', 'shared')


@MODELS.register_module()
class CENEncoderDecoder(EncoderDecoder):
    """Multi-stream encoder-decoder with a shared head and a learned ensemble.

    Args:
        num_streams: M. If None, taken from the backbone (``backbone.num_streams``,
            else ``len(backbone.in_channels)``).
        stack_streams: run each shared head without per-stream parts once on the M
            streams stacked along the batch dimension (M*N) instead of M times.
            Identical maths for heads without batch statistics (RefineNetHead; BN in
            eval mode); for a head with one shared BN collecting batch statistics
            (``head_norms='shared'``), stacking makes that BN see all streams' samples
            together. Heads with private norms always run stacked.
        shared_heads: ``False``: one copy of every head (decode and auxiliary) per
            stream (:class:`StreamHeads`), the unshared-network ablation.
        head_norms: ``'private'`` (default, papers): the heads' ``norm_cfg`` is
            wrapped into a ``PrivateStreamNorm`` (one norm layer per stream);
            ``'shared'``: the heads' norms as configured, shared by the streams.
            Heads without norms (RefineNetHead) are unaffected.
        ensemble: config of the ensemble module (default
            ``dict(type='StreamEnsemble')``; ``num_streams`` and, for
            ``ConcatFusionEnsemble``, ``channels`` are filled in).
        test_cfg: mmseg test config plus ``output``: ``'ensemble'`` or a stream index.
        Other args: as :class:`mmseg.models.EncoderDecoder`.

    Parameters: ``ensemble.alpha`` (M,), ensemble weights before softmax (``alpha``
    is an alias; checkpoints with a top-level ``alpha`` still load).
    """

    def __init__(self, *args, num_streams: Union[int, None] = None,
                 stack_streams: bool = True, shared_heads: bool = True,
                 head_norms: str = 'private', ensemble: Optional[dict] = None,
                 **kwargs):
        if head_norms not in HEAD_NORMS:
            raise ValueError(f'CENEncoderDecoder: head_norms must be one of '
                             f'{HEAD_NORMS}, got {head_norms!r}')
        # Read by _init_decode_head/_init_auxiliary_head, which EncoderDecoder.__init__
        # calls after building the backbone (plain attributes: allowed before
        # nn.Module.__init__).
        self._head_options = dict(num_streams=num_streams, shared_heads=shared_heads,
                                  head_norms=head_norms)
        super().__init__(*args, **kwargs)
        if isinstance(self.test_cfg, dict):  # mmseg reads test_cfg.mode as attribute
            self.test_cfg = ConfigDict(self.test_cfg)
        self.num_streams = self._resolve_num_streams(num_streams)
        self.stack_streams = stack_streams
        self.shared_heads = shared_heads
        self.head_norms = head_norms
        self.ensemble = build_stream_ensemble(ensemble, self.num_streams,
                                              channels=self.out_channels)
        load_legacy_alpha(self, 'ensemble')
        self._check_output(self._output)

    @property
    def alpha(self) -> Optional[nn.Parameter]:
        """The ensemble weights before softmax, ``ensemble.alpha`` (M,)."""
        return getattr(self.ensemble, 'alpha', None)

    # ---- heads ----------------------------------------------------------------------
    def _resolve_num_streams(self, num_streams) -> int:
        if num_streams is None:
            num_streams = getattr(self.backbone, 'num_streams', None)
        if num_streams is None and hasattr(self.backbone, 'in_channels'):
            num_streams = len(self.backbone.in_channels)
        if not isinstance(num_streams, int) or num_streams < 1:
            raise ValueError(
                'CENEncoderDecoder: cannot tell the number of streams; set '
                f'num_streams or use a backbone with `num_streams` (got {num_streams})')
        return num_streams

    def _build_head(self, head_cfg) -> nn.Module:
        """One head shared by the streams (norms private per ``head_norms``), or a
        :class:`StreamHeads` of M copies (``shared_heads=False``)."""
        options = self._head_options
        num_streams = self._resolve_num_streams(options['num_streams'])
        if not options['shared_heads']:
            return StreamHeads(head_cfg, num_streams)
        norm_cfg = head_cfg.get('norm_cfg')
        if (options['head_norms'] == 'private' and norm_cfg is not None
                and num_streams > 1 and norm_cfg.get('type') != 'PrivateStreamNorm'):
            head_cfg = dict(head_cfg, norm_cfg=dict(
                type='PrivateStreamNorm', num_streams=num_streams,
                norm_cfg=dict(norm_cfg)))
        return MODELS.build(head_cfg)

    def _init_decode_head(self, decode_head) -> None:
        self.decode_head = self._build_head(decode_head)
        self.align_corners = self.decode_head.align_corners
        self.num_classes = self.decode_head.num_classes
        self.out_channels = self.decode_head.out_channels

    def _init_auxiliary_head(self, auxiliary_head) -> None:
        if auxiliary_head is None:
            return
        if isinstance(auxiliary_head, list):
            self.auxiliary_head = nn.ModuleList(
                self._build_head(cfg) for cfg in auxiliary_head)
        else:
            self.auxiliary_head = self._build_head(auxiliary_head)

    @staticmethod
    def _has_private_norms(head: nn.Module) -> bool:
        """Whether the head holds per-stream norms (needs all streams stacked)."""
        return any(isinstance(m, ModalityNorm) for m in head.modules())

    # ---- streams --------------------------------------------------------------------
    @property
    def _output(self) -> Union[str, int]:
        return self.test_cfg.get('output', ENSEMBLE) if self.test_cfg else ENSEMBLE

    def _check_output(self, output) -> None:
        self.ensemble.check_output(output, key='test_cfg.output')

    def extract_feat(self, inputs: Tensor) -> MultiStreamFeatures:
        """(N, sum C_m, H, W) -> the M streams' levels, (M*N, C_l, H_l, W_l) each."""
        return as_multi_stream(super().extract_feat(inputs), self.num_streams,
                               'CENEncoderDecoder: backbone/neck output')

    def _stream_logits(self, head: nn.Module, feats: MultiStreamFeatures) -> Tensor:
        """All M streams through a head -> stream-major logits (M*N, K, h, w)."""
        if isinstance(head, StreamHeads):  # stream m through its own copy
            return torch.cat(head.forward_streams(feats, range(self.num_streams)))
        if self.stack_streams or self._has_private_norms(head):
            # one call on the backbone's stacked levels themselves (no copy). Private
            # norms normalise each stream's rows, so such a head always runs stacked.
            return head.forward(feats.stacked)
        return torch.cat([head.forward(feats.stream(m))
                          for m in range(self.num_streams)])

    def _one_stream_logits(self, head: nn.Module, feats: MultiStreamFeatures,
                           m: int) -> Tensor:
        """Stream m's logits (N, K, h, w), computing only what stream m needs."""
        if isinstance(head, StreamHeads):
            return head.forward_streams(feats, [m])[0]
        if self._has_private_norms(head):
            return head.forward(feats.stacked).chunk(self.num_streams)[m]
        return head.forward(feats.stream(m))

    def _all_logits(self, feats: MultiStreamFeatures) -> List[Tensor]:
        """[logits_0, ..., logits_{M-1}, logits_ens] at the head's resolution."""
        return self.ensemble.outputs(self._stream_logits(self.decode_head, feats))

    # ---- mmseg entry points ---------------------------------------------------------
    def encode_decode(self, inputs: Tensor,
                      batch_img_metas: List[dict]) -> Tensor:
        """Logits of ``test_cfg.output`` (ensemble or one stream) at the input size."""
        output = self._output
        self._check_output(output)
        feats = self.extract_feat(inputs)
        if output == ENSEMBLE:
            logits = self.ensemble(self._stream_logits(self.decode_head, feats))
        else:
            logits = self._one_stream_logits(self.decode_head, feats, output)
        return self.decode_head.predict_by_feat(logits, batch_img_metas)

    def predict(self, inputs: Tensor,
                data_samples: OptSampleList = None) -> SampleList:
        """mmseg's predict (ensemble or ``test_cfg.output``); with
        ``test_cfg.stream_predictions`` also ``pred_sem_seg_s{m}`` for every stream.

        The per-stream maps reuse mmseg's inference and post-processing (whole or slide,
        resize/crop/flip back) once per stream: simple and exact, M extra forward
        passes — meant for evaluation, not deployment.
        """
        results = super().predict(inputs, data_samples)
        if data_samples is None or not (self.test_cfg or {}).get('stream_predictions',
                                                                  False):
            return results
        batch_img_metas = [sample.metainfo for sample in data_samples]
        chosen = self.test_cfg.get('output', ENSEMBLE)
        try:
            for m in range(self.num_streams):
                self.test_cfg['output'] = m
                logits = self.inference(inputs, batch_img_metas)
                per_stream = self.postprocess_result(
                    logits, [sample.clone() for sample in data_samples])
                for result, stream in zip(results, per_stream):
                    result.set_field(stream.pred_sem_seg,
                                     f'pred_sem_seg_{stream_name(m)}')
        finally:
            self.test_cfg['output'] = chosen
        return results

    def _forward(self, inputs: Tensor,
                 data_samples: OptSampleList = None) -> List[Tensor]:
        """``mode='tensor'``: [logits_0, ..., logits_{M-1}, logits_ens], each
        (N, K, h, w) at the decode head's output resolution."""
        return self._all_logits(self.extract_feat(inputs))

    def loss(self, inputs: Tensor, data_samples: SampleList) -> dict:
        """Losses ``s{m}.decode.*``, ``ens.decode.*`` and ``s{m}.aux[_i].*``.

        Heads are used through ``forward`` + ``loss_by_feat`` (what mmseg's
        ``BaseDecodeHead.loss`` does), so that one head call serves all streams.
        """
        feats = self.extract_feat(inputs)
        losses = self.ensemble.name_losses(
            [self.decode_head.loss_by_feat(logits, data_samples)
             for logits in self._all_logits(feats)], 'decode')
        if self.with_auxiliary_head:
            # mmseg's naming: 'aux' for one head, 'aux_{i}' for a list of heads
            if isinstance(self.auxiliary_head, nn.ModuleList):
                aux_heads = [(f'aux_{i}', h) for i, h in enumerate(self.auxiliary_head)]
            else:
                aux_heads = [('aux', self.auxiliary_head)]
            for prefix, head in aux_heads:
                stream_logits = self._stream_logits(head, feats).chunk(self.num_streams)
                for m, logits in enumerate(stream_logits):
                    loss = head.loss_by_feat(logits, data_samples)
                    losses.update(add_prefix(loss, f'{stream_name(m)}.{prefix}'))
        return losses
