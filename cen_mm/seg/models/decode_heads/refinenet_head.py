"""Light-weight RefineNet decoder, as the official CEN code uses it.

Light-Weight RefineNet (Nekrasov et al., BMVC'18) in the variant of the official CEN
segmentation code: no norm layers, residual conv units (RCU) and chained residual
pooling (CRP, 4 stages), dropout 0.5 on the two deepest inputs and before the
classifier, bilinear upsampling with ``align_corners=True`` between levels. Every
parameter of the official decoder has exactly one counterpart here (see
``tools/model_converters/cen2mmseg.py``). Unlike the original Light-Weight RefineNet
(1x1 convs), the official CEN decoder uses 3x3 convs everywhere: with the default
widths (512, 256, 256, 256) the head has ~75M parameters.

It is an ordinary single-stream mmseg decode head; CEN shares it across streams
(``CENEncoderDecoder`` runs it on the streams stacked along the batch dimension).
"""
from typing import List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmseg.models.decode_heads.decode_head import BaseDecodeHead
from mmseg.models.utils import resize
from mmseg.registry import MODELS
from torch import Tensor


def _conv3x3(in_channels: int, out_channels: int, bias: bool = False) -> nn.Conv2d:
    return nn.Conv2d(in_channels, out_channels, 3, padding=1, bias=bias)


class RCUBlock(nn.Module):
    """Residual conv units, ``num_blocks`` times:
    ``x <- relu(x) + conv2(relu(conv1(relu(x))))``.

    The residual is the *activated* input: the official code applies an in-place ReLU
    to the tensor it also keeps as the residual (the original Light-Weight RefineNet
    adds the pre-activation input). We reproduce the official behaviour so that its
    weights give the same logits. ``conv1`` has a bias, ``conv2`` none (as official).

    Shapes: (N, in_channels, H, W) -> (N, channels, H, W).
    """

    def __init__(self, in_channels: int, channels: int, num_blocks: int):
        super().__init__()
        self.blocks = nn.ModuleList()
        for i in range(num_blocks):
            block = nn.Module()
            block.conv1 = _conv3x3(in_channels if i == 0 else channels, channels,
                                   bias=True)
            block.conv2 = _conv3x3(channels, channels, bias=False)
            self.blocks.append(block)

    def forward(self, x: Tensor) -> Tensor:
        for block in self.blocks:
            x = F.relu(x)
            x = block.conv2(F.relu(block.conv1(x))) + x
        return x


class CRPBlock(nn.Module):
    """Chained residual pooling: ``top <- conv_i(maxpool5x5(top)); x <- x + top``.

    Shapes: (N, C, H, W) -> (N, C, H, W).
    """

    def __init__(self, channels: int, num_stages: int = 4):
        super().__init__()
        self.pool = nn.MaxPool2d(kernel_size=5, stride=1, padding=2)
        self.convs = nn.ModuleList(
            _conv3x3(channels, channels) for _ in range(num_stages))

    def forward(self, x: Tensor) -> Tensor:
        top = x
        for conv in self.convs:
            top = conv(self.pool(top))
            x = x + top
        return x


class RefineStage(nn.Module):
    """One refinement level (official names in brackets, ``s`` = 1 for the deepest).

    ``dimred`` [p_ims1d2_outl{s}_dimred] -> ``adapt`` RCU x2 [adapt_stage{s}_b]
    -> (not at the deepest level) ``adapt_out`` [adapt_stage{s}_b2_joint_varout_dimred]
    + upsampled coarser result -> ReLU -> ``crp`` [mflow_conv_g{s}_pool]
    -> ``fuse`` RCU x3 [mflow_conv_g{s}_b] -> (not at the finest level) ``out_conv``
    [mflow_conv_g{s}_b3_joint_varout_dimred].
    """

    def __init__(self, in_channels: int, channels: int,
                 out_channels: Optional[int], has_coarser: bool,
                 num_crp_stages: int = 4):
        super().__init__()
        self.dimred = _conv3x3(in_channels, channels)
        self.adapt = RCUBlock(channels, channels, num_blocks=2)
        self.adapt_out = _conv3x3(channels, channels) if has_coarser else None
        self.crp = CRPBlock(channels, num_crp_stages)
        self.fuse = RCUBlock(channels, channels, num_blocks=3)
        self.out_conv = (_conv3x3(channels, out_channels)
                         if out_channels is not None else None)

    def forward(self, feat: Tensor, coarser: Optional[Tensor]) -> Tensor:
        """feat: (N, in_channels, H, W); coarser: (N, channels, H, W) or None."""
        x = self.adapt(self.dimred(feat))
        if coarser is not None:
            x = self.adapt_out(x) + coarser
        x = self.crp(F.relu(x))
        x = self.fuse(x)
        if self.out_conv is not None:
            x = self.out_conv(x)
        return x


@MODELS.register_module()
class RefineNetHead(BaseDecodeHead):
    """Light-weight RefineNet head (official CEN variant), single stream.

    Args:
        in_channels: channels of the 4 input levels, finest first, e.g.
            ``(256, 512, 1024, 2048)``.
        stage_channels: channels of the refinement stages, *deepest first*
            (official: ``(512, 256, 256, 256)``). The last one is ``channels``.
        in_index: which backbone outputs to use, finest first.
        dropout_ratio: element-wise dropout (``nn.Dropout``, as official) on the two
            deepest inputs and before the classifier.
        num_crp_stages: stages of each chained residual pooling block.
        align_corners: used by mmseg for resizing the logits to the label / image size
            (loss and predict); official: ``False``. Upsampling *inside* the decoder is
            always ``align_corners=True`` (official).
        **kwargs: the other :class:`BaseDecodeHead` arguments (num_classes,
            loss_decode, ignore_index, ...). ``norm_cfg`` must stay ``None``.

    Classifier ``conv_seg`` is a 3x3 conv with bias (official ``clf_conv``).

    Shapes: inputs tuple of levels (N, C_l, H_l, W_l) -> logits (N, K, H_0, W_0) at the
    resolution of the finest selected level (1/4 for a ResNet).
    """

    def __init__(self,
                 in_channels: Sequence[int] = (256, 512, 1024, 2048),
                 stage_channels: Sequence[int] = (512, 256, 256, 256),
                 in_index: Sequence[int] = (0, 1, 2, 3),
                 dropout_ratio: float = 0.5,
                 num_crp_stages: int = 4,
                 align_corners: bool = False,
                 **kwargs):
        if kwargs.get('norm_cfg') is not None:
            raise ValueError('RefineNetHead has no norm layers (official light-weight '
                             f'RefineNet); got norm_cfg={kwargs["norm_cfg"]}')
        if 'channels' in kwargs:
            raise ValueError('RefineNetHead: set stage_channels (deepest first), '
                             'not channels')
        if 'input_transform' in kwargs:
            raise ValueError('RefineNetHead always uses input_transform='
                             "'multiple_select'")
        in_channels, stage_channels = tuple(in_channels), tuple(stage_channels)
        if len(in_channels) != len(stage_channels) or len(in_channels) < 2:
            raise ValueError(
                'RefineNetHead needs one stage per input level (>= 2): got '
                f'in_channels={in_channels}, stage_channels={stage_channels}')
        super().__init__(
            in_channels=list(in_channels),
            channels=stage_channels[-1],
            in_index=list(in_index),
            input_transform='multiple_select',
            dropout_ratio=dropout_ratio,
            align_corners=align_corners,
            **kwargs)
        # Official: element-wise nn.Dropout (mmseg's default is Dropout2d), and a
        # 3x3 classifier with bias (mmseg's default is 1x1).
        self.dropout = nn.Dropout(dropout_ratio) if dropout_ratio > 0 else None
        self.conv_seg = _conv3x3(self.channels, self.out_channels, bias=True)
        deep_first = in_channels[::-1]
        num_levels = len(deep_first)
        self.stages = nn.ModuleList(
            RefineStage(
                deep_first[i], stage_channels[i],
                out_channels=(stage_channels[i + 1] if i + 1 < num_levels else None),
                has_coarser=i > 0,
                num_crp_stages=num_crp_stages) for i in range(num_levels))

    def _dropout(self, x: Tensor) -> Tensor:
        return self.dropout(x) if self.dropout is not None else x

    def forward(self, inputs: Tuple[Tensor]) -> Tensor:
        feats: List[Tensor] = self._transform_inputs(inputs)[::-1]  # deepest first
        x = None
        for i, (stage, feat) in enumerate(zip(self.stages, feats)):
            if i < 2:  # official: dropout on the two deepest encoder outputs
                feat = self._dropout(feat)
            x = stage(feat, x)
            if i + 1 < len(feats):
                x = resize(x, size=feats[i + 1].shape[2:], mode='bilinear',
                           align_corners=True, warning=False)
        return self.cls_seg(x)
