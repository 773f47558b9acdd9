"""``RGBDSegLocalVisualizer``: mmseg's SegLocalVisualizer drawing one multi-panel
picture per RGB-D sample: every input modality (depth colour-mapped), the ground truth,
the ensemble prediction and each stream's prediction, optionally the exchanged-channel
fraction of every exchanging layer.
"""
from typing import List, Optional, Sequence

import cv2
import numpy as np
from mmengine.dist import master_only
from mmengine.structures import PixelData

from mmseg.registry import VISUALIZERS
from mmseg.visualization import SegLocalVisualizer
from ..evaluation.stream_iou_metric import ENSEMBLE_KEY, stream_keys
from cen_mm.utils.image_io import write_rgb_image as write_image  # noqa: F401

MIN_PANEL_SIDE = 192  # small inputs are enlarged (nearest) so titles stay readable
TITLE_HEIGHT = 22
BAR_CHART_HEIGHT = 140
STREAM_COLOURS = [(230, 80, 60), (60, 120, 230), (60, 180, 90), (200, 160, 40),
                  (150, 80, 200)]


def colour_depth(depth: np.ndarray) -> np.ndarray:
    """(H, W) depth (0 = hole) -> (H, W, 3) uint8 RGB, near = warm, holes black.

    Valid values are stretched between their 1st and 99th percentiles."""
    depth = np.asarray(depth, np.float32)
    valid = np.isfinite(depth) & (depth > 0)
    out = np.zeros(depth.shape + (3, ), np.uint8)
    if not valid.any():
        return out
    lo, hi = np.percentile(depth[valid], [1, 99])
    scaled = np.clip((depth - lo) / max(hi - lo, 1e-6), 0, 1)
    grey = (255 * (1 - scaled)).astype(np.uint8)  # near -> 255 -> red in JET
    coloured = cv2.cvtColor(cv2.applyColorMap(grey, cv2.COLORMAP_JET), cv2.COLOR_BGR2RGB)
    out[valid] = coloured[valid]
    return out


def modality_panel(array: np.ndarray, kind: str) -> np.ndarray:
    """One modality (H, W, C) float -> (H, W, 3) uint8 RGB for display."""
    if kind == 'depth' or array.shape[2] == 1 and kind != 'image':
        return colour_depth(array[..., 0])
    if array.shape[2] >= 3:
        return np.clip(array[..., :3], 0, 255).astype(np.uint8)
    grey = np.clip(array[..., 0], 0, 255).astype(np.uint8)
    return np.repeat(grey[..., None], 3, axis=2)


def _with_title(panel: np.ndarray, title: str) -> np.ndarray:
    strip = np.full((TITLE_HEIGHT, panel.shape[1], 3), 255, np.uint8)
    scale = 0.45
    (w, _), _ = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    while w > panel.shape[1] - 4 and scale > 0.25:
        scale -= 0.05
        (w, _), _ = cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)
    cv2.putText(strip, title, (2, TITLE_HEIGHT - 7), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (0, 0, 0), 1, cv2.LINE_AA)
    return np.concatenate([strip, panel], axis=0)


def exchange_bar_chart(layers: Sequence[dict], width: int,
                       stream_names: Sequence[str]) -> np.ndarray:
    """Bars of the exchanged-channel fraction per exchanging layer and stream.

    ``layers``: records of :func:`cen_mm.engine.hooks.exchange_stats_record`
    (``name``, ``exchanged`` = one fraction per stream)."""
    chart = np.full((BAR_CHART_HEIGHT, width, 3), 255, np.uint8)
    top, bottom, left = 22, BAR_CHART_HEIGHT - 8, 34
    overall = (np.mean([np.mean(layer['exchanged']) for layer in layers])
               if layers else 0.0)
    cv2.putText(chart, f'exchanged channels per layer (mean {100 * overall:.1f}%)',
                (left, 14), cv2.FONT_HERSHEY_SIMPLEX, 0.42, (0, 0, 0), 1, cv2.LINE_AA)
    for frac, label in ((0.0, '0%'), (1.0, '100%')):
        y = int(bottom - frac * (bottom - top))
        cv2.line(chart, (left, y), (width - 4, y), (200, 200, 200), 1)
        cv2.putText(chart, label, (2, y + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.3, (0, 0, 0),
                    1, cv2.LINE_AA)
    if not layers:
        return chart
    num_streams = len(layers[0]['exchanged'])
    slot = (width - 4 - left) / len(layers)
    bar = max(slot / num_streams - 1, 1)
    for i, layer in enumerate(layers):
        for m, frac in enumerate(layer['exchanged']):
            x0 = int(left + i * slot + m * (bar + 1) * (slot >= 2 * num_streams))
            y0 = int(bottom - frac * (bottom - top))
            cv2.rectangle(chart, (x0, y0), (int(x0 + bar), bottom),
                          STREAM_COLOURS[m % len(STREAM_COLOURS)], -1)
    x = width - 4
    for m in reversed(range(num_streams)):
        name = stream_names[m] if m < len(stream_names) else f's{m}'
        (w, _), _ = cv2.getTextSize(name, cv2.FONT_HERSHEY_SIMPLEX, 0.38, 1)
        x -= w + 16
        cv2.rectangle(chart, (x, 6), (x + 10, 16), STREAM_COLOURS[m % 5], -1)
        cv2.putText(chart, name, (x + 12, 15), cv2.FONT_HERSHEY_SIMPLEX, 0.38,
                    (0, 0, 0), 1, cv2.LINE_AA)
    return chart


@VISUALIZERS.register_module()
class RGBDSegLocalVisualizer(SegLocalVisualizer):
    """Multi-panel pictures for M-stream segmentation (works for RGB-only too).

    ``add_datasample(name, image, data_sample, ..., modalities=None,
    modality_types=None, stream_names=None, exchange_layers=None)``:

    * ``image``: RGB (H, W, 3) uint8 as for mmseg's visualizer, **or** the stacked
      model input (H, W, sum C_m) float (RGB 0..255, then depth in metres, ...).
    * ``modalities``: optional list of per-modality float arrays (H, W, C_m); else
      ``image`` is split with ``data_sample.modality_channels`` (when present).
    * Panels, left to right, each titled: every modality, ground truth (if drawn and
      present), ensemble prediction, ``pred_sem_seg_s{m}`` of every stream.
      With ``exchange_layers`` a bar chart of the exchanged fraction per layer and
      stream is added below.
    * Without modality information it behaves like ``SegLocalVisualizer`` but titles
      the panels (image, gt, prediction).
    """

    def __init__(self, name: str = 'visualizer',
                 stream_names: Optional[Sequence[str]] = None, **kwargs):
        super().__init__(name=name, **kwargs)
        self.stream_names = list(stream_names) if stream_names else []

    # ---- helpers ----------------------------------------------------------------------
    @staticmethod
    def split_modalities(image: np.ndarray, data_sample) -> List[np.ndarray]:
        """Stacked (H, W, sum C_m) -> per-modality arrays (by ``modality_channels``)."""
        channels = None if data_sample is None else data_sample.get('modality_channels')
        if image.ndim == 2:
            image = image[..., None]
        if not channels or sum(channels) != image.shape[2]:
            return [image]
        return np.split(image, np.cumsum(channels)[:-1], axis=2)

    def _seg_panel(self, rgb: np.ndarray, seg, with_labels: bool) -> np.ndarray:
        data = seg.data if isinstance(seg, PixelData) else seg
        data = data.cpu() if hasattr(data, 'cpu') else data
        if data.ndim == 2:
            data = data[None]
        return self._draw_sem_seg(rgb, PixelData(data=data), self.dataset_meta['classes'],
                                  self.dataset_meta['palette'], with_labels)

    def draw_panels(self, image: np.ndarray, data_sample=None, draw_gt: bool = True,
                    draw_pred: bool = True, with_labels: bool = False,
                    modalities: Optional[Sequence[np.ndarray]] = None,
                    modality_types: Optional[Sequence[str]] = None,
                    stream_names: Optional[Sequence[str]] = None,
                    exchange_layers: Optional[Sequence[dict]] = None) -> np.ndarray:
        """The whole picture (RGB uint8)."""
        from ..apis.rgbd_inputs import default_modality_types
        if modalities is None:
            modalities = self.split_modalities(np.asarray(image), data_sample)
        modalities = [m if m.ndim == 3 else m[..., None] for m in modalities]
        if modality_types is None:
            modality_types = default_modality_types([m.shape[2] for m in modalities])
            if len(modalities) == 1:
                modality_types = ('rgb', ) if modalities[0].shape[2] == 3 else ('image', )
        stream_names = list(stream_names or self.stream_names)
        # the predictions' size (ori_shape) decides; inputs may have been resized
        size = modalities[0].shape[:2]
        if data_sample is not None:
            for key in ('pred_sem_seg', 'gt_sem_seg'):
                if key in data_sample:
                    size = tuple(data_sample.get(key).data.shape[-2:])
                    break
        modalities = [
            m if m.shape[:2] == size else cv2.resize(
                m, size[::-1], interpolation=cv2.INTER_NEAREST).reshape(
                    size + (m.shape[2], )) for m in modalities]
        views = [modality_panel(m, k) for m, k in zip(modalities, modality_types)]
        base = views[0] if modality_types[0] in ('rgb', 'image') else np.zeros_like(views[0])
        titles = [f'{k}' if k != 'image' else f'input {i}'
                  for i, k in enumerate(modality_types)]
        panels = list(views)
        if data_sample is not None:
            if draw_gt and 'gt_sem_seg' in data_sample:
                panels.append(self._seg_panel(base, data_sample.gt_sem_seg, with_labels))
                titles.append('ground truth')
            if draw_pred:
                for key in stream_keys(data_sample):
                    panels.append(self._seg_panel(base, data_sample.get(key),
                                                  with_labels))
                    if key == ENSEMBLE_KEY:
                        multi = any(k != ENSEMBLE_KEY for k in data_sample.keys()
                                    if k.startswith(ENSEMBLE_KEY))
                        titles.append('ensemble' if multi else 'prediction')
                    else:
                        m = int(key.rsplit('_s', 1)[1])
                        name = stream_names[m] if m < len(stream_names) else ''
                        titles.append(f'stream {m}' + (f' ({name})' if name else ''))
        scale = max(1, int(np.ceil(MIN_PANEL_SIDE / max(min(size), 1))))
        if scale > 1:
            panels = [cv2.resize(p, (p.shape[1] * scale, p.shape[0] * scale),
                                 interpolation=cv2.INTER_NEAREST) for p in panels]
        gap = np.full((panels[0].shape[0] + TITLE_HEIGHT, 4, 3), 255, np.uint8)
        row = []
        for panel, title in zip(panels, titles):
            row += [_with_title(panel, title), gap]
        picture = np.concatenate(row[:-1], axis=1)
        if exchange_layers is not None:
            picture = np.concatenate([
                picture,
                exchange_bar_chart(exchange_layers, picture.shape[1], stream_names)
            ], axis=0)
        return picture

    @master_only
    def add_datasample(self,
                       name: str,
                       image: np.ndarray,
                       data_sample=None,
                       draw_gt: bool = True,
                       draw_pred: bool = True,
                       show: bool = False,
                       wait_time: float = 0,
                       out_file: Optional[str] = None,
                       step: int = 0,
                       with_labels: Optional[bool] = False,
                       modalities: Optional[Sequence[np.ndarray]] = None,
                       modality_types: Optional[Sequence[str]] = None,
                       stream_names: Optional[Sequence[str]] = None,
                       exchange_layers: Optional[Sequence[dict]] = None) -> None:
        """Draw the panels; show, write ``out_file`` or send to the vis backends."""
        drawn = self.draw_panels(image, data_sample, draw_gt, draw_pred,
                                 bool(with_labels), modalities, modality_types,
                                 stream_names, exchange_layers)
        self.set_image(drawn)
        if show:
            self.show(drawn, win_name=name, wait_time=wait_time)
        if out_file is not None:
            write_image(drawn, out_file)
        else:
            self.add_image(name, drawn, step)
