"""CEN core: the sub-part convention, channel exchange, the modality norm and the
per-stream feature lists.

Depends on torch, mmengine (registry) and mmcv's norm builder only.
"""
from .ensemble import detached_ensemble
from .exchange import EXCHANGE_MODES, channel_exchange, exchange_mask
from .modality_norm import ModalityNorm, iter_exchanging_norms
from .stream_features import StreamFeatures, stacked_levels
from .subparts import subpart_bounds, subpart_mask

__all__ = [
    'detached_ensemble', 'EXCHANGE_MODES', 'channel_exchange', 'exchange_mask', 'ModalityNorm',
    'iter_exchanging_norms', 'StreamFeatures', 'stacked_levels', 'subpart_bounds',
    'subpart_mask'
]
