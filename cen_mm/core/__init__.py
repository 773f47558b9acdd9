"""CEN core: the sub-part convention, channel exchange, the modality norm, the one
representation of M streams and the ensemble over streams.

Depends on torch, mmengine (registry) and mmcv's norm builder only.
"""
from .conditional_norm import ConditionalModalityNorm
from .exchange import EXCHANGE_MODES, channel_exchange, exchange_mask
from .exchange_policies import EXCHANGE_POLICIES, build_exchange_policy
from .modality_norm import (ModalityNorm, forget_kept_values,
                            iter_exchanging_norms)
from .multi_stream_features import (MultiStreamFeatures, as_multi_stream,
                                    stream_grid)
from .stream_ensemble import (ALL, ENSEMBLE, ENSEMBLE_NAME, BaseStreamEnsemble,
                              ConcatFusionEnsemble, StreamEnsemble,
                              build_stream_ensemble, load_legacy_alpha, stream_name)
from .subparts import subpart_bounds, subpart_mask

__all__ = [
    'EXCHANGE_MODES', 'channel_exchange', 'exchange_mask', 'ModalityNorm',
    'iter_exchanging_norms', 'forget_kept_values', 'MultiStreamFeatures',
    'as_multi_stream', 'stream_grid',
    'ALL', 'ENSEMBLE', 'ENSEMBLE_NAME', 'BaseStreamEnsemble', 'ConcatFusionEnsemble',
    'StreamEnsemble', 'build_stream_ensemble', 'load_legacy_alpha', 'stream_name',
    'subpart_bounds', 'subpart_mask', 'EXCHANGE_POLICIES', 'build_exchange_policy',
    'ConditionalModalityNorm'
]
