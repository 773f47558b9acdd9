"""Loading local checkpoints on torch >= 2.6 (``--resume``, ``load_from``, test CKPT).

torch >= 2.6 defaults ``torch.load(weights_only=True)``. mmengine 0.10.7's loader for
local paths calls ``torch.load`` without ``weights_only``, so resuming from the checkpoints
mmengine itself writes fails ("Unsupported global: mmengine.logging.history_buffer.
HistoryBuffer", numpy arrays in the message hub, ...).

cen_mm replaces mmengine's loader for *local files* only (prefix ''): a file on disk that
the user named (``--resume PATH``, ``load_from``, ``tools/test.py CONFIG CKPT``) or that the
runner itself wrote (``--resume`` auto mode: ``work_dir/last_checkpoint``) is trusted and
fully unpickled. Every remote scheme (http(s)://, torchvision://, open-mmlab://, ...) keeps
mmengine's loader and torch's ``weights_only=True`` default — downloads stay safe.
"""
import os.path as osp

import torch
from mmengine.runner.checkpoint import CheckpointLoader


@CheckpointLoader.register_scheme(prefixes='', force=True)
def load_local_checkpoint(filename: str, map_location=None):
    """Load a checkpoint from a local path chosen by the user (trusted, full unpickle)."""
    filename = osp.expanduser(filename)
    if not osp.isfile(filename):
        raise FileNotFoundError(f'checkpoint file {filename!r} does not exist')
    return torch.load(filename, map_location=map_location, weights_only=False)
