"""The CEN ensemble over streams: sum_m softmax(alpha)_m * detach(out_m).

Stream outputs are detached, so a loss on the ensemble trains ``alpha`` only (the
streams are trained by their own losses). Used by the segmentor, the classifier and the
translation models alike.
"""
from typing import Sequence

import torch


def detached_ensemble(alpha: torch.Tensor, outputs: Sequence[torch.Tensor]) -> torch.Tensor:
    """Args: alpha (M,) ensemble logits; outputs: M tensors of equal shape.

    Returns: the weighted sum, same shape as one output.
    """
    if alpha.numel() != len(outputs):
        raise ValueError(f'{alpha.numel()} ensemble weights for {len(outputs)} outputs')
    weights = alpha.softmax(dim=0)
    ens = weights[0] * outputs[0].detach()
    for m in range(1, len(outputs)):
        ens = ens + weights[m] * outputs[m].detach()
    return ens
