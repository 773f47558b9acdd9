"""``SynthMultiDomainDataset``: procedurally generated multi-domain scenes (no files).

Sample i is the scene of seed ``seed + i``, rendered on the fly by ``LoadSynthDomains``
(:mod:`.synth_domains`); the rest of the pipeline is the Taskonomy one.
"""
from typing import List, Sequence

from mmengine.dataset import BaseDataset

from mmagic.registry import DATASETS
from .synth_domains import SYNTH_DOMAINS


@DATASETS.register_module()
class SynthMultiDomainDataset(BaseDataset):
    """Procedurally generated multi-domain scenes (see ``synth_domains.py``).

    Sample i is the scene of seed ``seed + i``, rendered by ``LoadSynthDomains``.

    Args:
        num_samples: dataset length.
        domains: domains to render.
        seed: seed of sample 0 (use different seeds for train and val).
    """

    def __init__(self,
                 num_samples: int,
                 domains: Sequence[str],
                 seed: int = 0,
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 **kwargs):
        unknown = [d for d in domains if d not in SYNTH_DOMAINS]
        if isinstance(domains, str) or not domains or unknown:
            raise ValueError(f'SynthMultiDomainDataset: domains must be a list from '
                             f'{list(SYNTH_DOMAINS)}, got {domains!r}')
        if num_samples < 1:
            raise ValueError(f'num_samples must be >= 1, got {num_samples}')
        self.num_samples = int(num_samples)
        self.domains = list(domains)
        self.seed = int(seed)
        super().__init__(ann_file='', pipeline=list(pipeline), test_mode=test_mode,
                         **kwargs)

    def load_data_list(self) -> List[dict]:
        return [
            dict(sample_name=f'synth_{self.seed + i:06d}', synth_seed=self.seed + i,
                 domains=list(self.domains)) for i in range(self.num_samples)
        ]
