"""``RGBDSegInferencer``: mmseg's inferencer for RGB-D (and any M-modality) CEN models.

Three lines from Python::

    from cen_mm.seg.apis import RGBDSegInferencer
    inferencer = RGBDSegInferencer('configs/cen/refinenet_r101_nyud.py', 'ckpt.pth')
    result = inferencer(dict(rgb='rgb.png', depth='depth.png'), out_dir='out')

``result['predictions']`` is the ensemble label map (H, W), as with
``MMSegInferencer``; ``result['stream_predictions']`` holds each stream's map.
The pipeline is the config's test pipeline with its loading step replaced by
:class:`RGBDInferencerLoader` (files *or* arrays per modality), so the config's
resizing and the model's normalisation apply unchanged.
"""
import copy
import os.path as osp
from typing import List, Optional, Sequence, Union

import numpy as np
import torch.nn as nn
from mmcv.transforms import Compose
from mmengine.fileio import list_dir_or_file
from mmengine.infer.infer import BaseInferencer
from mmengine.logging import print_log

from mmseg.apis import MMSegInferencer
from mmseg.registry import DATASETS, INFERENCERS, TRANSFORMS
from mmseg.utils import ConfigType, get_classes, get_palette
from ..datasets.depth_io import check_depth_encoding
from ..datasets.rgbd_dataset import read_conversion_meta
from ..evaluation.stream_iou_metric import ENSEMBLE_KEY, save_label_map, stream_keys
from .rgbd_inputs import (FALLBACK_DEPTH_ENCODING, default_modality_names,
                          default_modality_types, describe_input, sample_name_of)

LOADERS = ('LoadRGBDFromFile', 'LoadImageFromFile', 'RGBDInferencerLoader')
ANNOTATION_LOADERS = ('LoadRGBDAnnotations', 'LoadAnnotations', 'LoadDepthAnnotation')
IMAGE_SUFFIXES = ('.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.npy')


def _find(pipeline: list, types: Sequence[str]) -> int:
    for i, transform in enumerate(pipeline):
        if transform.get('type') in types:
            return i
    return -1


def _stems(folder: str) -> dict:
    """{file stem: path} of the images in ``folder`` (sorted, not recursive)."""
    files = sorted(list_dir_or_file(folder, list_dir=False))
    return {osp.splitext(f)[0]: osp.join(folder, f) for f in files
            if f.lower().endswith(IMAGE_SUFFIXES)}


@INFERENCERS.register_module()
class RGBDSegInferencer(MMSegInferencer):
    """Segmentation inferencer for models with M input modalities (CEN).

    Args:
        model: config path, config object, or a model name from cen_mm's metafiles
            (e.g. ``'cen_refinenet_r101_nyud'``; weights must then be given: the
            metafiles list no downloadable mmseg checkpoints).
        weights: checkpoint path (trained with cen_mm, or converted with
            ``tools/model_converters/cen2mmseg.py``).
        depth_encoding: how stored depth integers map to metres, e.g.
            ``dict(type='linear', scale=1/5000)`` (NYUDv2 PNGs) or
            ``dict(type='sunrgbd')``. Default: the config's (loader, dataset, the
            converted dataset's meta.json, the dataset class), else millimetres
            (``scale=1/1000``, the usual 16-bit depth PNG). Float depth arrays are
            always taken as metres.
        modality_names: names of the modalities (keys of dict inputs); default from
            the backbone's ``in_channels``: ``('rgb', 'depth')`` or ``('rgb', 'hha')``.
        stream_predictions: also predict every stream (``pred_sem_seg_s{m}``).
        classes, palette, dataset_name, device, scope: as ``MMSegInferencer``;
            without classes in the checkpoint they come from the config's dataset.

    Inputs of ``__call__``: one sample as ``dict(rgb=..., depth=...)`` or a tuple /
    list ``(rgb, depth)`` (each a file path or an array), a list of such samples, a
    dict of folders (files paired by name), or one stacked (H, W, sum C_m) float
    array (RGB 0..255, then depth in metres).
    """

    visualize_kwargs: set = {
        'show', 'wait_time', 'img_out_dir', 'opacity', 'return_vis', 'with_labels',
        'draw_streams', 'show_exchange'
    }

    def __init__(self,
                 model: Union[ConfigType, str],
                 weights: Optional[str] = None,
                 depth_encoding: Optional[dict] = None,
                 modality_names: Optional[Sequence[str]] = None,
                 stream_predictions: bool = True,
                 classes: Optional[Union[str, List]] = None,
                 palette: Optional[Union[str, List]] = None,
                 dataset_name: Optional[str] = None,
                 device: Optional[str] = None,
                 scope: Optional[str] = 'mmseg') -> None:
        import cen_mm  # noqa: F401  (registers the CEN components)
        self._depth_encoding_arg = depth_encoding
        self._modality_names_arg = modality_names
        self.stream_predictions = stream_predictions
        self._num_array_samples = 0
        super().__init__(model=model, weights=weights, classes=classes,
                         palette=palette, dataset_name=dataset_name, device=device,
                         scope=scope)
        self.show_progress = False

    def __call__(self, inputs, return_datasamples: bool = False, batch_size: int = 1,
                 return_vis: bool = False, show: bool = False, wait_time: int = 0,
                 out_dir: str = '', img_out_dir: Optional[str] = None,
                 pred_out_dir: Optional[str] = None, **kwargs) -> dict:
        """As ``MMSegInferencer.__call__`` (``out_dir/vis``, ``out_dir/pred``), and
        ``img_out_dir`` / ``pred_out_dir`` also work on their own without
        ``out_dir``. Extra keywords: ``draw_streams``, ``show_exchange``,
        ``opacity``."""
        if out_dir:
            img_out_dir = osp.join(out_dir, img_out_dir or 'vis')
            pred_out_dir = osp.join(out_dir, pred_out_dir or 'pred')
        return BaseInferencer.__call__(
            self, inputs, return_datasamples=return_datasamples,
            batch_size=batch_size, return_vis=return_vis, show=show,
            wait_time=wait_time, img_out_dir=img_out_dir or '',
            pred_out_dir=pred_out_dir or '', **kwargs)

    # ---- model ------------------------------------------------------------------------
    def _load_model_from_metafile(self, model: str):
        """Find ``model`` in cen_mm's metafiles (not mmseg's)."""
        root = BaseInferencer._get_repo_or_mim_dir('cen_mm')
        names = []
        for entry in BaseInferencer._get_models_from_metafile(root):
            aliases = entry.get('Alias') or []
            aliases = [aliases] if isinstance(aliases, str) else list(aliases)
            names.append(entry['Name'])
            if model.lower() in [a.lower() for a in [entry['Name']] + aliases]:
                from mmengine.config import Config
                return Config.fromfile(osp.join(root, entry['Config'])), \
                    entry.get('Weights')
        raise ValueError(f'{model!r} is neither a config file nor a model name of '
                         f'cen_mm ({len(names)} names in {root}/model-index.yml, e.g. '
                         f'{", ".join(names[:3])}; list them with '
                         "RGBDSegInferencer.list_models('cen_mm'))")

    def _init_model(self, cfg: ConfigType, weights: Optional[str],
                    device: str = 'cpu') -> nn.Module:
        model_cfg = cfg.model
        if self.stream_predictions and model_cfg.get('type') == 'CENEncoderDecoder':
            model_cfg.setdefault('test_cfg', dict())
            model_cfg.test_cfg['stream_predictions'] = True
        # never download pretrained backbone weights: the checkpoint holds them all
        backbone = model_cfg.get('backbone')
        if backbone is not None and backbone.get('init_cfg') is not None:
            backbone['init_cfg'] = None
        if weights is None:
            print_log('RGBDSegInferencer: no weights given: the model is randomly '
                      'initialised', logger='current', level=30)
        return super()._init_model(cfg, weights, device)

    def _load_weights_to_model(self, model: nn.Module, checkpoint: Optional[dict],
                               cfg: Optional[ConfigType]) -> None:
        """mmseg's loading; classes/palette from the checkpoint, else from the
        config's test dataset (never Cityscapes' for an RGB-D model)."""
        meta = checkpoint.get('meta', {}) if checkpoint is not None else {}
        if checkpoint is not None:
            super()._load_weights_to_model(model, checkpoint, cfg)
        if 'dataset_meta' not in meta and 'CLASSES' not in meta:
            model.dataset_meta = self._dataset_meta_from_cfg(cfg) or dict(
                classes=get_classes('cityscapes'), palette=get_palette('cityscapes'))

    @staticmethod
    def _dataset_meta_from_cfg(cfg: ConfigType) -> Optional[dict]:
        try:
            dataset = cfg.test_dataloader.dataset
            cls = DATASETS.get(dataset.type)
        except (AttributeError, KeyError):
            return None
        meta = dict(getattr(cls, 'METAINFO', None) or {})
        meta.update(dataset.get('metainfo') or {})
        if not meta.get('classes'):
            return None
        palette = meta.get('palette')
        if not palette or len(palette) != len(meta['classes']):
            rng = np.random.default_rng(0)
            palette = rng.integers(0, 256, (len(meta['classes']), 3)).tolist()
        return dict(classes=list(meta['classes']), palette=[list(p) for p in palette])

    def _init_visualizer(self, cfg: ConfigType):
        """Always the multi-panel ``RGBDSegLocalVisualizer`` (own instance, no vis
        backends: pictures go to ``img_out_dir`` / ``return_vis``)."""
        from mmengine.visualization import Visualizer

        from ..visualization import RGBDSegLocalVisualizer
        alpha = (cfg.get('visualizer') or {}).get('alpha', 0.8)
        name, i = 'rgbd_inferencer', 0
        while Visualizer.check_instance_created(name):
            i += 1
            name = f'rgbd_inferencer_{i}'
        return RGBDSegLocalVisualizer(name=name, alpha=alpha)

    # ---- pipeline ---------------------------------------------------------------------
    def _resolve_depth_encoding(self, cfg: ConfigType, loader: dict) -> tuple:
        """(encoding, where it came from): explicit > config loader > test dataset
        (its arg, meta.json, its class default) > millimetres."""
        if self._depth_encoding_arg is not None:
            return check_depth_encoding(self._depth_encoding_arg), 'given'
        if loader.get('depth_encoding'):
            return check_depth_encoding(loader['depth_encoding']), 'the config loader'
        dataset = cfg.get('test_dataloader', {}).get('dataset', {})
        if dataset.get('depth_encoding'):
            return check_depth_encoding(dataset['depth_encoding']), 'the config dataset'
        try:
            meta = read_conversion_meta(dataset.get('data_root'))
        except ValueError:
            meta = None
        if meta and meta.get('depth_encoding'):
            return check_depth_encoding(meta['depth_encoding']), 'meta.json'
        try:
            default = getattr(DATASETS.get(dataset.get('type')),
                              'DEFAULT_DEPTH_ENCODING', None)
        except KeyError:
            default = None
        if default:
            return dict(default), f"{dataset.get('type')}'s default"
        return dict(FALLBACK_DEPTH_ENCODING), 'fallback (16-bit millimetres)'

    def _init_pipeline(self, cfg: ConfigType) -> Compose:
        pipeline = copy.deepcopy(list(cfg.test_dataloader.dataset.pipeline))
        pipeline = [t for t in pipeline if t.get('type') not in ANNOTATION_LOADERS]
        idx = _find(pipeline, LOADERS)
        loader = pipeline[idx] if idx >= 0 else {}
        dataset = cfg.test_dataloader.dataset
        backbone = cfg.model.get('backbone') or {}
        channels = tuple(backbone.get('in_channels') or (3, ))
        if isinstance(backbone.get('in_channels'), int):
            channels = (backbone['in_channels'], )
        depth_type = loader.get('depth_type', dataset.get('depth_type', 'depth'))
        kinds = default_modality_types(channels, depth_type)
        names = tuple(self._modality_names_arg or default_modality_names(kinds))
        if len(names) != len(kinds):
            raise ValueError(f'modality_names {names} must name the model\'s '
                             f'{len(kinds)} modalities (in_channels {channels})')
        loader_cfg = dict(type='RGBDInferencerLoader', modality_channels=channels,
                          modality_types=kinds, modality_names=names,
                          hole_mode=loader.get('hole_mode',
                                               dataset.get('hole_mode', 'keep')),
                          fill_method=loader.get('fill_method',
                                                 dataset.get('fill_method', 'nearest')))
        if 'depth' in kinds:
            encoding, source = self._resolve_depth_encoding(cfg, loader)
            loader_cfg['depth_encoding'] = encoding
            print_log(f'RGBDSegInferencer: depth encoding {encoding} ({source}); pass '
                      'depth_encoding=... to change it', logger='current')
        if idx >= 0:
            pipeline[idx] = loader_cfg
        else:  # e.g. the procedural demo set: samples enter the pipeline loaded
            pipeline.insert(0, loader_cfg)
        self.loader = TRANSFORMS.build(loader_cfg)
        self.modality_names = names
        self.modality_types = kinds
        return Compose(pipeline)

    # ---- inputs -----------------------------------------------------------------------
    def _sample(self, inputs: Sequence) -> dict:
        if isinstance(inputs[0], np.ndarray) or any(x is None for x in inputs):
            name = f'{self._num_array_samples:08d}'
            self._num_array_samples += 1
        else:
            name = sample_name_of(inputs, 0)
        return dict(inputs=list(inputs), sample_name=name)

    def _from_dict(self, inputs: dict) -> List[dict]:
        names = self.modality_names
        unknown = set(inputs) - set(names)
        missing = [n for n in names if inputs.get(n) is None]
        if unknown or missing:
            raise ValueError(
                f'the model needs the modalities {", ".join(names)}; '
                + (f'missing {", ".join(missing)}' if missing else '')
                + ('; ' if missing and unknown else '')
                + (f'unknown keys {", ".join(sorted(map(str, unknown)))}'
                   if unknown else ''))
        values = [inputs[n] for n in names]
        folders = [isinstance(v, str) and osp.isdir(v) for v in values]
        if not any(folders):
            return [self._sample(values)]
        if not all(folders):
            raise ValueError('give either a folder for every modality or a file/array '
                             f'for every modality, got {inputs}')
        listings = [_stems(v) for v in values]
        if not listings[0]:
            raise ValueError(f'no images ({", ".join(IMAGE_SUFFIXES)}) in {values[0]}')
        samples = []
        for stem in listings[0]:
            absent = [f'{names[m]} ({values[m]})' for m in range(1, len(names))
                      if stem not in listings[m]]
            if absent:
                raise ValueError(f"missing modality for '{stem}': no file named "
                                 f"{stem}.* in {', '.join(absent)}")
            samples.append(self._sample([lst[stem] for lst in listings]))
        return samples

    def list_samples(self, inputs) -> List[dict]:
        """The samples ``inputs`` stand for (folders paired by file name), each
        ``dict(inputs=[one item per modality], sample_name=...)``; raises the same
        errors as a call would."""
        return self._inputs_to_list(inputs)

    def _inputs_to_list(self, inputs) -> list:
        """Normalise the user's inputs to a list of ``dict(inputs=[...], ...)``."""
        m = len(self.modality_names)
        leaf = (str, np.ndarray)
        if isinstance(inputs, dict):
            return self._from_dict(inputs)
        if isinstance(inputs, np.ndarray):
            total = sum(self.loader.modality_channels)
            if inputs.ndim == 3 and inputs.shape[2] == total and m > 1:
                cuts = np.cumsum(self.loader.modality_channels)[:-1]
                parts = [p.astype(np.float32) for p in np.split(inputs, cuts, axis=2)]
                return [self._sample(parts)]
        if isinstance(inputs, leaf):
            if m == 1:
                return [self._sample([inputs])]
            raise ValueError(
                f'the model needs {m} inputs per sample ({", ".join(self.modality_names)})'
                f', got one {describe_input(inputs)}: pass dict('
                + ', '.join(f'{n}=...' for n in self.modality_names) + ') or ('
                + ', '.join(self.modality_names) + '), or one stacked (H, W, '
                f'{sum(self.loader.modality_channels)}) float array')
        if isinstance(inputs, tuple) or (
                isinstance(inputs, list) and len(inputs) == m
                and all(isinstance(x, leaf) or x is None for x in inputs)):
            return [self._sample(list(inputs))]
        if isinstance(inputs, list):
            samples = []
            for item in inputs:
                if isinstance(item, dict):
                    samples += self._from_dict(item)
                elif isinstance(item, (list, tuple)):
                    samples.append(self._sample(list(item)))
                else:
                    samples += self._inputs_to_list(item)
            return samples
        raise TypeError(f'unsupported input type {type(inputs).__name__}')

    # ---- visualisation and outputs ------------------------------------------------------
    def visualize(self, inputs: list, preds: list, return_vis: bool = False,
                  show: bool = False, wait_time: int = 0, img_out_dir: str = '',
                  opacity: float = 0.8, with_labels: bool = False,
                  draw_streams: bool = True,
                  show_exchange: bool = False) -> Optional[List[np.ndarray]]:
        """One multi-panel picture per sample (see ``RGBDSegLocalVisualizer``):
        modalities, ensemble, every stream (``draw_streams``) and, with
        ``show_exchange``, the exchanged-channel fraction per layer."""
        if not show and img_out_dir == '' and not return_vis:
            return None
        self.visualizer.set_dataset_meta(**self.model.dataset_meta)
        self.visualizer.alpha = opacity
        layers = None
        if show_exchange:
            from cen_mm.engine.hooks.exchange_stats_hook import exchange_stats_record
            layers = exchange_stats_record(self.model)['layers']
        results = []
        for sample, pred in zip(inputs, preds):
            arrays = self.loader.load_modalities(sample['inputs'])
            if not draw_streams:
                pred = pred.clone()
                for key in stream_keys(pred):
                    if key != ENSEMBLE_KEY:
                        pred.pop(key)
            out_file = (osp.join(img_out_dir, sample['sample_name'] + '.png')
                        if img_out_dir else None)
            self.visualizer.add_datasample(
                sample['sample_name'], arrays[0], pred, draw_gt=False, show=show,
                wait_time=wait_time, out_file=out_file, with_labels=with_labels,
                modalities=arrays,
                modality_types=self.modality_types, stream_names=self.modality_names,
                exchange_layers=layers)
            if return_vis:
                results.append(self.visualizer.get_image())
            self.num_visualized_imgs += 1
        return results if return_vis else None

    def postprocess(self, preds: list, visualization: Optional[List[np.ndarray]],
                    return_datasample: bool = False, pred_out_dir: str = '') -> dict:
        """``predictions``: ensemble (H, W) label maps; ``stream_predictions``: a list
        of M maps per sample; with ``pred_out_dir`` written as ``NAME.png`` and
        ``s{m}/NAME.png`` (uint8 class ids)."""
        if return_datasample:
            return preds[0] if len(preds) == 1 else preds
        out = dict(predictions=[], stream_predictions=[], visualization=[])
        for i, pred in enumerate(preds):
            maps = {key: pred.get(key).data[0].cpu().numpy() for key in stream_keys(pred)}
            ensemble = maps.pop(ENSEMBLE_KEY)
            streams = list(maps.values())
            out['predictions'].append(ensemble)
            out['stream_predictions'].append(streams)
            if visualization is not None:
                out['visualization'].append(visualization[i])
            if pred_out_dir:
                name = osp.splitext(osp.basename(str(pred.get('img_path', ''))))[0] \
                    or f'{self.num_pred_imgs:08d}'
                save_label_map(ensemble, osp.join(pred_out_dir, f'{name}.png'))
                for m, stream in enumerate(streams):
                    save_label_map(stream, osp.join(pred_out_dir, f's{m}', f'{name}.png'))
            self.num_pred_imgs += 1
        if len(out['predictions']) == 1:
            out = {k: v[0] if v else v for k, v in out.items()}
        return out
