"""``TaskonomyDataset``: pixel-aligned Taskonomy views in any set of domains.

Reads the official CEN list format: one line per view, with ``{domain}`` standing for the
domain name in both the folder and the file name, relative to ``data_root``::

    {domain}/point_407_view_2_domain_{domain}.png

Each data info holds ``img_<domain>_path`` for every domain of ``domains`` (plus
``domains`` and ``sample_name``, e.g. ``point_407_view_2``); ``LoadTaskonomyDomains``
reads and decodes them. Missing files are reported at construction (all of them, by
domain), not in the middle of training.

Domain names. ``OFFICIAL_DOMAINS`` is the official code's domain table
(``image2image_translation/main.py``, ``--img-types`` indices); ``PAPER_DOMAINS`` maps
the papers' modality names to Taskonomy folders as the paper configs use them. The
papers' "SemSeg" ("semantic segmentation") is ``segment_semantic`` (Taskonomy's
semantic labels, distilled from FCIS), which is **not** in the official table: that
table offers only the unsupervised ``segment_unsup2d`` / ``segment_unsup25d``, so the
released code cannot have produced the SemSeg rows unmodified, and which folder the
authors used is not recorded. The SemSeg configs follow the papers' wording.
"""
import os.path as osp
import re
from typing import List, Sequence

from mmengine.dataset import BaseDataset

from mmagic.registry import DATASETS

_SUFFIX = re.compile(r'_domain_\{domain\}$')

# official CEN code, image2image_translation/main.py (--img-types index -> folder)
OFFICIAL_DOMAINS = ('rgb', 'normal', 'reshading', 'depth_euclidean', 'depth_zbuffer',
                    'principal_curvature', 'edge_occlusion', 'edge_texture',
                    'segment_unsup2d', 'segment_unsup25d')
# the papers' modality names (TPAMI'23 Tables 4-9) -> Taskonomy folder in the configs
PAPER_DOMAINS = {
    'RGB': 'rgb',
    'Shade': 'reshading',
    'Texture': 'edge_texture',
    'Edge': 'edge_occlusion',
    'Normal': 'normal',
    'Depth': 'depth_euclidean',
    'Curve': 'principal_curvature',
    'SemSeg': 'segment_semantic',  # not in OFFICIAL_DOMAINS, see the module docstring
}


@DATASETS.register_module()
class TaskonomyDataset(BaseDataset):
    """Taskonomy views listed in ``ann_file`` for ``domains``.

    Args:
        ann_file: list file (absolute or relative to ``data_root``).
        domains: domain folder names, e.g. ``['reshading', 'edge_texture', 'rgb']``.
        data_root: root holding one folder per domain.
        check_files: verify at construction that every listed file exists.
        pipeline, test_mode, ...: see :class:`mmengine.dataset.BaseDataset`.
    """

    def __init__(self,
                 ann_file: str,
                 domains: Sequence[str],
                 data_root: str = '',
                 pipeline: Sequence = (),
                 test_mode: bool = False,
                 check_files: bool = True,
                 **kwargs):
        if isinstance(domains, str) or not domains:
            raise ValueError(f'TaskonomyDataset: domains must be a non-empty list of '
                             f'domain names, got {domains!r}')
        self.domains = list(domains)
        self.check_files = check_files
        super().__init__(ann_file=ann_file, data_root=data_root, pipeline=list(pipeline),
                         test_mode=test_mode, **kwargs)

    def load_data_list(self) -> List[dict]:
        if not osp.isfile(self.ann_file):
            raise FileNotFoundError(f'TaskonomyDataset: list file {self.ann_file} does '
                                    'not exist')
        data_list, missing = [], {d: [] for d in self.domains}
        with open(self.ann_file) as f:
            lines = [(i, line.strip()) for i, line in enumerate(f, 1)]
        for line_no, line in lines:
            if not line:
                continue
            if '{domain}' not in line:
                raise ValueError(f'{self.ann_file}:{line_no}: expected a path template '
                                 "containing '{domain}', e.g. {domain}/point_0_view_0_"
                                 f'domain_{{domain}}.png, got {line!r}')
            stem = osp.splitext(osp.basename(line))[0]
            info = dict(sample_name=_SUFFIX.sub('', stem), domains=list(self.domains))
            for domain in self.domains:
                path = osp.join(self.data_root, line.replace('{domain}', domain))
                info[f'img_{domain}_path'] = path
                if self.check_files and not osp.isfile(path):
                    missing[domain].append(path)
            data_list.append(info)
        if not data_list:
            raise ValueError(f'TaskonomyDataset: {self.ann_file} lists no views')
        missing = {d: paths for d, paths in missing.items() if paths}
        if missing:
            details = '; '.join(
                f'{d}: {len(p)} missing, e.g. {p[0]}' for d, p in missing.items())
            raise FileNotFoundError(
                f'TaskonomyDataset ({self.ann_file}, data_root={self.data_root!r}): '
                f'domain images are missing — {details}')
        return data_list
