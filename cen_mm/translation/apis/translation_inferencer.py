"""``CENTranslationInferencer``: apply a trained ``CENPix2Pix`` to your own images.

mmagic 1.2.0's ``MMagicInferencer`` imports ControlNet helpers (``controlnet_aux``) and
its translation inferencer expects one input domain; this inferencer is built on
mmengine's ``BaseInferencer`` directly::

    from cen_mm.translation.apis import CENTranslationInferencer
    inferencer = CENTranslationInferencer(CONFIG, CKPT)
    out = inferencer(dict(rgb='rgb.png', edge_occlusion='edges.png'))
    out['outputs']['depth_zbuffer']            # ensemble, (H, W, 3) uint8 RGB
    out['outputs']['depth_zbuffer_from_rgb']   # stream of the RGB input

The pipeline is the config's test pipeline with the loading step replaced by
:class:`TranslationInferencerLoader` (files decoded like the config's loader, or uint8
arrays) and a resize to the model's size where the config has none.
"""
import copy
import os.path as osp
from typing import Dict, List, Optional, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform, Compose
from mmengine.infer.infer import BaseInferencer
from mmengine.registry import init_default_scope

from mmagic.registry import TRANSFORMS
from ..datasets.domain_decoding import decode_domain, domain_decoding
from ..datasets.transforms import _store, read_png
from cen_mm.utils.image_io import write_rgb_image as write_picture  # noqa: F401

LOADERS = ('LoadTaskonomyDomains', 'LoadSynthDomains', 'TranslationInferencerLoader')


def describe(item) -> str:
    if isinstance(item, np.ndarray):
        return f'array {tuple(item.shape)} {item.dtype}'
    return str(item)


@TRANSFORMS.register_module()
class TranslationInferencerLoader(BaseTransform):
    """Load the input domains of one sample from files or arrays.

    Required key: ``inputs``: ``{domain: path or array}`` for every input domain.

    Args:
        domains: the input domains, in the model's order.
        decoding: ``'taskonomy'``: files are decoded as ``LoadTaskonomyDomains`` does
            (16-bit depth/edges, log depth, ...), with ``decode``/``depth_holes``;
            ``'identity'``: 8-bit images as they are (the procedural demo domains).
            Arrays are always taken as decoded 8-bit images (H, W[, 1|3], RGB order).

    Adds what the config's loaders add: ``img`` (list of (H, W, 3) uint8 BGR),
    ``domains``, ``img_channel_order``.
    """

    def __init__(self, domains: Sequence[str], decoding: str = 'taskonomy',
                 decode: Optional[Dict[str, dict]] = None, depth_holes: str = 'far'):
        if decoding not in ('taskonomy', 'identity'):
            raise ValueError(f"decoding must be 'taskonomy' or 'identity', got "
                             f'{decoding!r}')
        self.domains = list(domains)
        self.decoding = decoding
        self.decode = dict(decode or {})
        self.depth_holes = depth_holes

    def load(self, inputs: dict) -> List[np.ndarray]:
        """(H, W, 3) uint8 RGB per input domain, after the checks."""
        if not isinstance(inputs, dict):
            raise TypeError(f'inputs must be a dict {{domain: path or array}} for the '
                            f'domains {self.domains}, got {type(inputs).__name__}')
        missing = [d for d in self.domains if inputs.get(d) is None]
        unknown = sorted(set(inputs) - set(self.domains))
        if missing or unknown:
            raise ValueError(
                f'the model translates from {", ".join(self.domains)}'
                + (f'; missing input domain(s) {", ".join(missing)}' if missing else '')
                + (f'; unknown domain(s) {", ".join(unknown)}' if unknown else ''))
        images = []
        for domain in self.domains:
            item = inputs[domain]
            if isinstance(item, np.ndarray):
                if item.dtype != np.uint8:
                    raise ValueError(f'input {domain!r} ({describe(item)}): arrays must '
                                     'be decoded 8-bit images (uint8)')
                image = decode_domain(item, domain, {}, describe(item))
            else:
                spec = ({} if self.decoding == 'identity' else domain_decoding(
                    domain, self.decode, self.depth_holes))
                image = decode_domain(read_png(item), domain, spec, item)
            images.append(image)
        sizes = {d: img.shape[:2] for d, img in zip(self.domains, images)}
        if len(set(sizes.values())) > 1:
            raise ValueError(f'size mismatch: the input domains have different sizes '
                             f'{sizes} (H, W); all views must be pixel-aligned')
        return images

    def transform(self, results: dict) -> dict:
        results = dict(results)
        return _store(results, self.domains, self.load(results.pop('inputs')))


def _to_rgb_uint8(tensor) -> np.ndarray:
    """A (3, H, W) BGR 0..255 output of ``CENPix2Pix`` -> (H, W, 3) uint8 RGB."""
    array = tensor.detach().cpu().numpy() if hasattr(tensor, 'detach') else tensor
    array = np.clip(np.round(np.asarray(array, np.float32)), 0, 255).astype(np.uint8)
    return np.ascontiguousarray(array.transpose(1, 2, 0)[..., ::-1])


def _titled(image: np.ndarray, title: str, side: int) -> np.ndarray:
    """The image resized to side x side (nearest) under a title strip."""
    image = cv2.resize(image, (side, side), interpolation=cv2.INTER_NEAREST)
    strip = np.full((20, image.shape[1], 3), 255, np.uint8)
    scale = 0.4
    while (cv2.getTextSize(title, cv2.FONT_HERSHEY_SIMPLEX, scale, 1)[0][0] >
           image.shape[1] - 4 and scale > 0.25):
        scale -= 0.05
    cv2.putText(strip, title, (2, 14), cv2.FONT_HERSHEY_SIMPLEX, scale, (0, 0, 0), 1,
                cv2.LINE_AA)
    return np.concatenate([strip, image], axis=0)


class CENTranslationInferencer(BaseInferencer):
    """Translation with a ``CENPix2Pix`` (mmagic scope) on user images.

    Args:
        model: config file or object of a ``CENPix2Pix`` model.
        weights: checkpoint (trained with cen_mm's tools/train.py).
        device: e.g. ``'cpu'``.
        decoding: how input *files* are decoded: ``None`` (from the config: Taskonomy
            decoding for ``LoadTaskonomyDomains``, 8-bit images as they are for the
            procedural demo), ``'taskonomy'`` or ``'identity'``.

    ``__call__(inputs)``: ``inputs`` is ``{domain: path or array}`` (one sample) or a
    list of them. Returns ``dict(outputs=...)`` with, per sample, ``{key: (H, W, 3)
    uint8 RGB}``: ``<target>`` (the ensemble) and ``<target>_from_<input>`` per stream,
    for every task; ``visualization`` (one picture per sample: inputs, ensembles,
    streams) with ``return_vis=True`` or ``out_dir``.
    """

    preprocess_kwargs: set = set()
    forward_kwargs: set = set()
    visualize_kwargs: set = {'return_vis', 'out_dir'}
    postprocess_kwargs: set = set()

    def __init__(self, model, weights: Optional[str] = None,
                 device: Optional[str] = 'cpu', decoding: Optional[str] = None) -> None:
        import cen_mm.translation  # noqa: F401  (registers the mmagic components)
        init_default_scope('mmagic')
        self._decoding = decoding
        super().__init__(model=model, weights=weights, device=device, scope='mmagic',
                         show_progress=False)
        self.tasks = list(self.model.tasks)
        self.input_domains = list(dict.fromkeys(d for t in self.tasks for d in t.inputs))
        self._names = 0

    def _init_visualizer(self, cfg):
        return None  # pictures are drawn by ``visualize`` (no mmagic visualizer)

    def _init_pipeline(self, cfg) -> Compose:
        pipeline = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
        idx = next((i for i, t in enumerate(pipeline) if t.get('type') in LOADERS), -1)
        if idx < 0:
            raise ValueError(f'no loading step ({", ".join(LOADERS)}) in the test '
                             'pipeline of the config')
        loader = pipeline[idx]
        tasks = cfg.model.get('tasks') or []
        domains = list(dict.fromkeys(d for t in tasks for d in t['inputs']))
        decoding = self._decoding or (
            'identity' if loader['type'] == 'LoadSynthDomains' else 'taskonomy')
        pipeline[idx] = dict(type='TranslationInferencerLoader', domains=domains,
                             decoding=decoding, decode=loader.get('decode'),
                             depth_holes=loader.get('depth_holes', 'far'))
        if not any(t.get('type') == 'Resize' for t in pipeline):
            size = int(loader.get('size', 256))  # the size the model was trained at
            pipeline.insert(idx + 1, dict(type='Resize', keys=['img'],
                                          scale=(size, size), interpolation='bilinear',
                                          backend='pillow'))
        self.loader = TRANSFORMS.build(pipeline[idx])
        return Compose(pipeline)

    def _inputs_to_list(self, inputs) -> list:
        if isinstance(inputs, dict):
            inputs = [inputs]
        if not isinstance(inputs, (list, tuple)) or not all(
                isinstance(x, dict) for x in inputs):
            raise TypeError('inputs must be {domain: path or array} or a list of them, '
                            f'for the input domains {self.input_domains}')
        samples = []
        for item in inputs:
            first = item.get(self.input_domains[0])
            if isinstance(first, str):
                name = osp.splitext(osp.basename(first))[0]
            else:
                name = f'{self._names:08d}'
                self._names += 1
            samples.append(dict(inputs=dict(item), sample_name=name))
        return samples

    def visualize(self, inputs: list, preds: list, return_vis: bool = False,
                  out_dir: str = '') -> Optional[List[np.ndarray]]:
        if not return_vis and not out_dir:
            return None
        pictures = []
        for sample, pred in zip(inputs, preds):
            images = self.loader.load(sample['inputs'])
            outputs = self._outputs(pred)
            side = max(128, max(images[0].shape[:2]))
            row = [_titled(img, d, side) for img, d in zip(images, self.input_domains)]
            row += [_titled(img, key.replace('_from_', ' from ') if '_from_' in key
                            else f'{key} (ensemble)', side)
                    for key, img in outputs.items()]
            gap = np.full((side + 20, 4, 3), 255, np.uint8)
            parts = []
            for panel in row:
                parts += [panel, gap]
            picture = np.concatenate(parts[:-1], axis=1)
            if out_dir:
                write_picture(picture, osp.join(out_dir, sample['sample_name'] + '.png'))
            pictures.append(picture)
        return pictures if return_vis else None

    def _outputs(self, pred) -> Dict[str, np.ndarray]:
        outputs = {}
        for task in self.tasks:
            keys = [task.ensemble_key] + (
                [task.stream_key(m) for m in range(len(task.inputs))]
                if len(task.inputs) > 1 else [])
            for key in keys:
                outputs[key[len('fake_'):]] = _to_rgb_uint8(pred.get(key))
        return outputs

    def postprocess(self, preds: list, visualization: Optional[list] = None,
                    return_datasample: bool = False) -> dict:
        if return_datasample:
            return dict(predictions=preds)
        outputs = [self._outputs(pred) for pred in preds]
        result = dict(outputs=outputs[0] if len(outputs) == 1 else outputs)
        if visualization is not None:
            result['visualization'] = (visualization[0] if len(visualization) == 1
                                       else visualization)
        return result
