"""``RGBDSegVisualizationHook``: mmseg's SegVisualizationHook for inputs that are not
(only) an RGB file: it draws from the batch's model inputs (RGB, depth, ...), so it
works for every RGB-D dataset, including the procedural demo set whose samples have no
file at all (``synth_rgbd://...``)."""
import os.path as osp
from typing import Sequence

import numpy as np
from mmengine.runner import Runner

from mmseg.engine.hooks import SegVisualizationHook
from mmseg.registry import HOOKS
from mmseg.structures import SegDataSample
from .rgbd_visualizer import RGBDSegLocalVisualizer


def input_as_image(tensor) -> np.ndarray:
    """A (C, H, W) model input (before the data preprocessor) -> (H, W, C) float32."""
    array = tensor.detach().cpu().numpy() if hasattr(tensor, 'detach') else tensor
    return np.ascontiguousarray(np.asarray(array, np.float32).transpose(1, 2, 0))


@HOOKS.register_module()
class RGBDSegVisualizationHook(SegVisualizationHook):
    """Draws every ``interval``-th test/val batch with the visualizer's multi-panel
    picture (``RGBDSegLocalVisualizer``: modalities, ground truth, ensemble and
    per-stream predictions).

    Samples whose metainfo has ``modality_channels`` are drawn from the batch's
    ``inputs`` (with ``--tta``: the first view, resized to the prediction); other
    samples (plain RGB datasets) as mmseg does, from ``img_path``.
    Arguments: those of :class:`mmseg.engine.hooks.SegVisualizationHook`.
    """

    def _after_iter(self, runner: Runner, batch_idx: int, data_batch: dict,
                    outputs: Sequence[SegDataSample], mode: str = 'val') -> None:
        if self.draw is False or mode == 'train':
            return
        inputs = data_batch.get('inputs') if isinstance(data_batch, dict) else None
        if isinstance(inputs, (list, tuple)) and inputs and isinstance(
                inputs[0], (list, tuple)):
            inputs = inputs[0]  # --tta: the first view of every sample
        multimodal = (
            isinstance(inputs, (list, tuple)) and len(inputs) == len(outputs)
            and all(hasattr(x, 'shape') and len(x.shape) == 3 for x in inputs)
            and all(o.get('modality_channels') for o in outputs))
        if not multimodal:
            return super()._after_iter(runner, batch_idx, data_batch, outputs, mode)
        if not self.every_n_inner_iters(batch_idx, self.interval):
            return
        panels = isinstance(self._visualizer, RGBDSegLocalVisualizer)
        for tensor, output in zip(inputs, outputs):
            img_path = output.get('img_path') or f'{batch_idx:06d}'
            name = f'{mode}_{osp.basename(str(img_path))}'
            image = input_as_image(tensor)
            if not panels:  # a stock SegLocalVisualizer: the RGB channels only
                image = np.clip(image[..., :3], 0, 255).astype(np.uint8)
            self._visualizer.add_datasample(
                name, image, data_sample=output, show=self.show,
                wait_time=self.wait_time, step=runner.iter)
