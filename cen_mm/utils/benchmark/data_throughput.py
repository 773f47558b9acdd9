"""Throughput of a training dataloader (images/s) and a writer of synthetic NYUDv2
samples in the converted layout, for measuring the pipeline without the data set."""
import copy
import os
import os.path as osp
import time

import numpy as np


def write_synthetic_nyud(root: str, num: int = 24, seed: int = 0) -> None:
    """``num`` 640x480 samples in the converted NYUDv2 layout (``images/train`` RGB
    PNG, ``depth/train`` uint16 PNG in 1/5000 m with 5% holes (0), ``annotations/train``
    uint8 labels 0..39 with 2% 255): smooth images like real scenes."""
    import cv2
    rng = np.random.default_rng(seed)
    h, w = 480, 640
    for sub in ('images/train', 'depth/train', 'annotations/train'):
        os.makedirs(osp.join(root, sub), exist_ok=True)
    for i in range(num):
        low = rng.uniform(0, 255, (h // 16, w // 16, 3)).astype(np.float32)
        rgb = cv2.resize(low, (w, h), interpolation=cv2.INTER_CUBIC)
        rgb = np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)
        depth = cv2.resize(rng.uniform(0.5, 8.0, (h // 32, w // 32)).astype(np.float32),
                           (w, h), interpolation=cv2.INTER_LINEAR)
        depth = (depth * 5000).astype(np.uint16)
        depth[rng.random((h, w)) < 0.05] = 0  # holes
        labels = cv2.resize(rng.integers(0, 40, (h // 40, w // 40)).astype(np.uint8),
                            (w, h), interpolation=cv2.INTER_NEAREST)
        labels[rng.random((h, w)) < 0.02] = 255
        name = f'{i:06d}.png'
        cv2.imwrite(osp.join(root, 'images/train', name), rgb[..., ::-1])
        cv2.imwrite(osp.join(root, 'depth/train', name), depth)
        cv2.imwrite(osp.join(root, 'annotations/train', name), labels)


def measure_loader_throughput(loader_cfg: dict, data_root: str, num_batches: int,
                              seed: int = 0) -> dict:
    """Build ``loader_cfg`` (mmengine ``Runner.build_dataloader``) on ``data_root`` and
    time ``num_batches`` batches after the first one.

    Returns ``dict(batch_size, num_workers, images, batches, seconds, restarts,
    first_batch_seconds)``; a dataset smaller than ``num_batches`` is gone round again
    (``restarts``: new iterators, whose worker start-up is included in ``seconds``).
    """
    from mmengine.runner import Runner
    loader_cfg = copy.deepcopy(loader_cfg)
    loader_cfg['dataset']['data_root'] = data_root
    loader_cfg['persistent_workers'] = False  # one pass, then the workers exit
    loader = Runner.build_dataloader(loader_cfg, seed=seed)
    it = iter(loader)
    start = time.perf_counter()
    next(it)  # worker start-up and the first batch
    first = time.perf_counter() - start
    done = images = restarts = 0
    start = time.perf_counter()
    while done < num_batches:
        try:
            batch = next(it)
        except StopIteration:  # a small dataset: go round again (workers restart)
            it = iter(loader)
            restarts += 1
            continue
        done += 1
        images += len(batch['inputs'])  # the last batch of an epoch may be short
    return dict(batch_size=loader_cfg['batch_size'],
                num_workers=loader_cfg.get('num_workers', 0), images=images,
                batches=done, seconds=time.perf_counter() - start, restarts=restarts,
                first_batch_seconds=first)
