"""CEN core: the sub-part convention, channel exchange and the modality norm.

Depends on torch, mmengine (registry) and mmcv's norm builder only.
"""
from .ensemble import detached_ensemble
from .exchange import EXCHANGE_MODES, channel_exchange, exchange_mask
from .modality_norm import ModalityNorm, iter_exchanging_norms
from .subparts import subpart_bounds, subpart_mask

__all__ = [
    'detached_ensemble', 'EXCHANGE_MODES', 'channel_exchange', 'exchange_mask', 'ModalityNorm',
    'iter_exchanging_norms', 'subpart_bounds', 'subpart_mask'
]
