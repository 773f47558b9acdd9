"""``ClassCountCheckHook``: the segmentation heads' ``num_classes`` must equal the
dataset's number of classes.

Fewer output channels than classes end in a bare ``IndexError`` inside the
cross-entropy; more train silently with classes that never occur. Checked before
training, validation and testing, for every ``decode_head`` / ``auxiliary_head`` that has
``num_classes`` (models without such heads, e.g. mmagic's, are skipped).
"""
from mmengine.hooks import Hook
from mmengine.registry import HOOKS
from torch import nn

from cen_mm.engine.runner.errors import ConfigMismatchError


def _heads(model):
    """(config key, num_classes) of the model's segmentation heads."""
    while not hasattr(model, 'decode_head') and hasattr(model, 'module'):
        model = model.module  # DDP wrappers, mmseg's SegTTAModel
    for name in ('decode_head', 'auxiliary_head'):
        heads = getattr(model, name, None)
        if heads is None:
            continue
        heads = list(heads) if isinstance(heads, nn.ModuleList) else [heads]
        for i, head in enumerate(heads):
            if isinstance(getattr(head, 'num_classes', None), int):
                key = name if len(heads) == 1 else f'{name}.{i}'
                yield f'model.{key}.num_classes', head.num_classes


@HOOKS.register_module()
class ClassCountCheckHook(Hook):
    """Raise :class:`ConfigMismatchError` (a ``ValueError``) if a head's
    ``num_classes`` differs from the classes of the dataset it is trained or evaluated
    on (naming both and the config key to fix)."""

    def _check(self, runner, loader_name: str) -> None:
        loader = getattr(runner, loader_name, None)
        dataset = getattr(loader, 'dataset', None)
        classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
        if not classes:
            return
        for key, num in _heads(runner.model):
            if num != len(classes):
                raise ConfigMismatchError(
                    f'{key}={num}, but the {loader_name.split("_")[0]} dataset '
                    f'{type(dataset).__name__} has {len(classes)} classes '
                    f'({", ".join(map(str, classes[:5]))}'
                    f'{", ..." if len(classes) > 5 else ""}). '
                    f'Set {key}={len(classes)} (e.g. --cfg-options {key}='
                    f'{len(classes)}) or use the dataset the model was built for.')

    def before_train(self, runner) -> None:
        self._check(runner, 'train_dataloader')

    def before_val(self, runner) -> None:
        self._check(runner, 'val_dataloader')

    def before_test(self, runner) -> None:
        self._check(runner, 'test_dataloader')
