"""Tiny RGB-D inputs and a demo-config CEN model saved as a checkpoint (tmp files only)."""
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import DefaultScope

import cen_mm  # noqa: F401
from tests.fixtures.tools import ROOT

DEMO = osp.join(ROOT, 'configs', 'cen', 'demo_refinenet_r18_synthrgbd.py')
H, W = 40, 56


def demo_model(seed: int = 0, exchanged_layer: bool = True):
    """The demo config's CEN-RefineNet-R18 (random weights, eval mode), with the
    ensemble weights away from uniform and one exchanging layer's stream-0 sub-part
    below theta (so exchange happens and the exchange fraction is non-zero)."""
    from mmseg.registry import MODELS

    from cen_mm.core import iter_exchanging_norms
    torch.manual_seed(seed)
    cfg = Config.fromfile(DEMO)
    with DefaultScope.overwrite_default_scope('mmseg'):
        model = MODELS.build(cfg.model)
    model.init_weights()
    with torch.no_grad():
        model.alpha.copy_(torch.tensor([0.7, -0.2]))
        if exchanged_layer:
            name, norm = next(iter(iter_exchanging_norms(model)))
            owner = norm.owner_mask[0]
            norm.norms[0].weight[owner] = 0.0
        # deterministic, non-trivial BN statistics (eval mode uses them)
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-0.1, 0.1)
                module.running_var.uniform_(0.5, 1.5)
    return model.eval()


def save_checkpoint(model, path: str, with_meta: bool = True) -> str:
    from cen_mm.seg.datasets.synth_scenes import SYNTH_CLASSES, SYNTH_PALETTE
    ckpt = dict(state_dict=model.state_dict())
    if with_meta:
        ckpt['meta'] = dict(dataset_meta=dict(classes=SYNTH_CLASSES,
                                              palette=SYNTH_PALETTE))
    torch.save(ckpt, path)
    return path


def rgb_image(seed: int = 0) -> np.ndarray:
    """(H, W, 3) uint8 RGB: a coloured box on a gradient."""
    rng = np.random.default_rng(seed)
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 0] = np.linspace(30, 200, W, dtype=np.uint8)[None]
    img[..., 1] = 90
    img[..., 2] = np.linspace(200, 40, H, dtype=np.uint8)[:, None]
    img[8:24, 10:30] = rng.integers(0, 256, 3)
    return img


def depth_raw(seed: int = 0) -> np.ndarray:
    """(H, W) uint16 millimetres 1500..3500 with a bump and a hole (0)."""
    d = np.full((H, W), 3000, np.uint16)
    d[:, :W // 2] = 2000 + 100 * seed
    d[10:20, 30:45] = 1500
    d[0:4, 0:5] = 0
    return d


def write_pair(folder, name: str = 'scene', seed: int = 0):
    """rgb/NAME.png (8-bit) and depth/NAME.png (16-bit mm) -> (rgb_path, depth_path)."""
    rgb_path = osp.join(str(folder), 'rgb', f'{name}.png')
    depth_path = osp.join(str(folder), 'depth', f'{name}.png')
    import os
    os.makedirs(osp.dirname(rgb_path), exist_ok=True)
    os.makedirs(osp.dirname(depth_path), exist_ok=True)
    assert cv2.imwrite(rgb_path, cv2.cvtColor(rgb_image(seed), cv2.COLOR_RGB2BGR))
    assert cv2.imwrite(depth_path, depth_raw(seed))
    return rgb_path, depth_path


def reference_predictions(model, img: np.ndarray):
    """Ensemble and per-stream label maps of ``model.test_step`` on the stacked float
    image (H, W, 4), packed by mmseg's own PackSegInputs (independent of the
    inferencer's loader)."""
    from mmengine.dataset import pseudo_collate
    from mmseg.datasets.transforms import PackSegInputs
    cfg = Config.fromfile(DEMO)
    pack = PackSegInputs(meta_keys=cfg.rgbd_meta_keys)
    packed = pack(dict(img=img.astype(np.float32), img_shape=img.shape[:2],
                       ori_shape=img.shape[:2], modality_channels=(3, 1),
                       img_path='ref'))
    with torch.no_grad():
        out = model.test_step(pseudo_collate([packed]))[0]
    streams = [out.get(f'pred_sem_seg_s{m}').data[0].numpy() for m in range(2)]
    return out.pred_sem_seg.data[0].numpy(), streams
