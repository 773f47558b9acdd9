"""``ModalityConv2d``: M private conv copies over a stream-major stacked batch.

Only for the *unshared-convs* ablation (the papers' CEN shares every conv between the
streams, which is a plain ``nn.Conv2d`` on the stacked batch). Registered in mmengine's
root ``MODELS``, so mmcv's ``build_conv_layer(dict(type='ModalityConv2d',
num_streams=M), in_channels, out_channels, kernel_size, ...)`` builds it.

State-dict keys: ``convs.{m}.weight`` (``convs.{m}.bias``) for stream m.
"""
import torch
import torch.nn as nn
from mmengine.registry import MODELS


@MODELS.register_module()
class ModalityConv2d(nn.Module):
    """M private ``nn.Conv2d`` layers; stream m uses ``convs[m]``.

    Args:
        in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
        bias: as :class:`torch.nn.Conv2d` (the same for every copy).
        num_streams: M (keyword only).

    Shapes: input (M*N, C_in, H, W) with rows ``[m*N, (m+1)*N)`` = stream m;
    output (M*N, C_out, H', W') in the same stream-major order.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int,
                 kernel_size,
                 stride=1,
                 padding=0,
                 dilation=1,
                 groups: int = 1,
                 bias: bool = True,
                 *,
                 num_streams: int):
        super().__init__()
        if num_streams < 1:
            raise ValueError(f'num_streams must be >= 1, got {num_streams}')
        self.num_streams = num_streams
        self.convs = nn.ModuleList(
            nn.Conv2d(in_channels, out_channels, kernel_size, stride=stride,
                      padding=padding, dilation=dilation, groups=groups, bias=bias)
            for _ in range(num_streams))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.shape[0] % self.num_streams:
            raise ValueError(
                f'ModalityConv2d expects the {self.num_streams} streams stacked along '
                f'the batch dimension, but got batch {x.shape[0]}')
        chunks = x.chunk(self.num_streams, dim=0)
        return torch.cat([conv(c) for conv, c in zip(self.convs, chunks)], dim=0)

    def extra_repr(self) -> str:
        return f'num_streams={self.num_streams}'
