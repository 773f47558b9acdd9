"""Multi-domain translation data (mmagic ``DATASETS`` / ``TRANSFORMS``)."""
from .domain_decoding import (DEFAULT_DOMAIN_DECODING, DEPTH_HOLES, decode_domain,
                              domain_decoding)
from .synth_dataset import SynthMultiDomainDataset
from .synth_domains import SYNTH_DOMAINS, render_synth_domains
from .taskonomy import OFFICIAL_DOMAINS, PAPER_DOMAINS, TaskonomyDataset
from .transforms import (LoadSynthDomains, LoadTaskonomyDomains, PackDomains,
                         read_png)

__all__ = [
    'TaskonomyDataset', 'SynthMultiDomainDataset', 'LoadTaskonomyDomains',
    'LoadSynthDomains', 'PackDomains', 'DEFAULT_DOMAIN_DECODING', 'decode_domain',
    'domain_decoding', 'read_png', 'render_synth_domains', 'SYNTH_DOMAINS',
    'DEPTH_HOLES', 'OFFICIAL_DOMAINS', 'PAPER_DOMAINS'
]
