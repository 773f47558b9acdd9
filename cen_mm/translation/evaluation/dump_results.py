"""``TranslationDumpResults``: mmengine's ``DumpResults`` for mmagic's multi-metric loops.

mmagic's ``MultiValLoop``/``MultiTestLoop`` and ``Evaluator`` call ``prepare``,
``get_metric_sampler`` and an argument-less ``evaluate`` on every metric and group them by
``SAMPLER_MODE``/``sample_model``; mmengine's ``DumpResults`` has none of these, so it
cannot be appended to a translation config's test evaluator as is (this is what
``tools/test.py --out x.pkl`` needs for mmagic-scope configs). This subclass adds them.
The pickle holds one dict per sample (mmagic ``DataSample.to_dict()``: inputs, targets,
``fake_*`` predictions as BGR 0–255 tensors, metainfo), in dataset order.
"""
import torch.nn as nn
from mmengine.evaluator import DumpResults
from torch.utils.data import DataLoader

from mmagic.registry import METRICS


@METRICS.register_module()
class TranslationDumpResults(DumpResults):
    """Dump the test/val predictions to ``out_file_path`` (``.pkl``)."""
    SAMPLER_MODE = 'normal'
    sample_model = 'orig'

    def prepare(self, module: nn.Module, dataloader: DataLoader) -> None:
        self.size = len(dataloader.dataset)

    def get_metric_sampler(self, model: nn.Module, dataloader: DataLoader,
                           metrics) -> DataLoader:
        return dataloader

    def evaluate(self, size: int = None) -> dict:
        if size is None:
            if not hasattr(self, 'size'):
                raise RuntimeError('TranslationDumpResults: prepare() was not called '
                                   "(use mmagic's MultiValLoop / MultiTestLoop)")
            size = self.size
        return super().evaluate(size)
