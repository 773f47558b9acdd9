"""Translation metrics (mmagic ``METRICS``): FID and KID with local Inception weights
(plain or the official CEN input protocol), MAE / MSE in the papers' units, and
dumping predictions from mmagic's loops."""
from .dump_results import TranslationDumpResults
from .fid import FID_PROTOCOLS, TranslationFID, extract_real_features
from .inception import (INCEPTION_STYLES, default_inception_path,
                        load_local_inception)
from .kid import TranslationKID, kid_over_subsets, polynomial_mmd2_unbiased
from .official_rendering import (OFFICIAL_RENDER_SIZE, official_protocol_batch,
                                 official_protocol_image, render_png,
                                 render_rgb, stretch_min_max, to_official_range)
from .pixel_errors import TranslationMAE, TranslationMSE

__all__ = [
    'TranslationFID', 'TranslationKID', 'TranslationMAE', 'TranslationMSE',
    'TranslationDumpResults',
    'load_local_inception', 'default_inception_path', 'extract_real_features',
    'kid_over_subsets', 'polynomial_mmd2_unbiased', 'INCEPTION_STYLES',
    'FID_PROTOCOLS', 'OFFICIAL_RENDER_SIZE', 'official_protocol_batch',
    'official_protocol_image', 'render_png', 'render_rgb', 'stretch_min_max',
    'to_official_range'
]
