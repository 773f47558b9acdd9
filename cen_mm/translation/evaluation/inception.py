"""Inception feature extractors for FID/KID, loaded only from a local file.

mmagic would fetch its Inception weights from the internet (or, for ``'PyTorch'`` style,
from ``$TORCH_HOME``) at metric construction. Offline there are none, and a metric
computed with random weights is meaningless, so the CEN metrics require the user to
point ``inception_path`` at a local file (or put it where mmagic / pytorch-fid cache it,
see :func:`default_inception_path`) and fail with a clear message otherwise:

``'StyleGAN'``
    A TorchScript of the TF ``inception-2015-12-05`` network with the call signature
    ``net(uint8 RGB (N, 3, H, W), return_features=True) -> (N, 2048)`` — e.g. Tero
    Karras' ``inception-2015-12-05.pt`` (what mmagic downloads for this style), or any
    stand-in with that signature.
``'PyTorch'``
    pytorch-fid's ``pt_inception-2015-12-05-6726825d.pth`` state dict, loaded into
    mmagic's ``InceptionV3`` (pool3, 2048-d; inputs resized to 299 and scaled to [-1, 1]).

Loaded networks are cached per (style, file), so several metric instances share one.
"""
import os
import os.path as osp
from typing import Dict, Tuple

import torch
import torch.nn as nn

INCEPTION_STYLES = ('StyleGAN', 'PyTorch')
_LOADED: Dict[Tuple[str, str, float], nn.Module] = {}

# pytorch-fid checkpoint module names in the order mmagic's InceptionV3 puts them in
# ``blocks.{i}.{j}`` (entries None are pooling layers without parameters).
_PYTORCH_FID_BLOCKS = (
    ('Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3', None),
    ('Conv2d_3b_1x1', 'Conv2d_4a_3x3', None),
    ('Mixed_5b', 'Mixed_5c', 'Mixed_5d', 'Mixed_6a', 'Mixed_6b', 'Mixed_6c', 'Mixed_6d',
     'Mixed_6e'),
    ('Mixed_7a', 'Mixed_7b', 'Mixed_7c', None),
)

_HOW_TO = (
    "Set `inception_path` in the metric config to a local file (or put the file at "
    "the default location above): for "
    "inception_style='StyleGAN' a TorchScript of the TF inception-2015-12-05 network "
    "(e.g. inception-2015-12-05.pt from "
    "https://nvlabs-fi-cdn.nvidia.com/stylegan2-ada-pytorch/pretrained/metrics/), for "
    "'PyTorch' pytorch-fid's pt_inception-2015-12-05-6726825d.pth (from "
    "https://github.com/mseitzer/pytorch-fid/releases). Metrics are never computed "
    'with random Inception weights.')


def _pytorch_fid_key_map(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """pytorch-fid checkpoint keys -> mmagic ``InceptionV3`` keys (``fc.*`` dropped)."""
    prefix_map = {}
    for i, block in enumerate(_PYTORCH_FID_BLOCKS):
        for j, name in enumerate(block):
            if name is not None:
                prefix_map[name] = f'blocks.{i}.{j}'
    mapped = {}
    for key, value in state_dict.items():
        head, _, rest = key.partition('.')
        if head in prefix_map:
            mapped[f'{prefix_map[head]}.{rest}'] = value
        elif head != 'fc':
            raise KeyError(f'unexpected key {key!r} in the pytorch-fid Inception '
                           'checkpoint')
    return mapped


def _unreadable(path: str, style: str, err: BaseException) -> RuntimeError:
    """One-line error for a weights file that cannot be read at all (typically
    truncated by an interrupted download)."""
    detail = (str(err).strip().splitlines() or [''])[0][:200]
    if style == 'PyTorch':
        what = 'a pytorch-fid Inception state dict'
        fix = ('pt_inception-2015-12-05-6726825d.pth from '
               'https://github.com/mseitzer/pytorch-fid/releases')
    else:
        what = 'a TorchScript Inception network'
        fix = ('inception-2015-12-05.pt from https://nvlabs-fi-cdn.nvidia.com/'
               'stylegan2-ada-pytorch/pretrained/metrics/')
    return RuntimeError(
        f'Inception weights {path} ({os.path.getsize(path)} bytes) cannot be read, '
        f'not {what} (inception_style={style!r}; {type(err).__name__}: {detail}): the '
        f'file is truncated (e.g. an interrupted download), corrupt or of another '
        f'kind. Delete it and download {fix} again.')


def _load_pytorch_fid(path: str) -> nn.Module:
    from mmagic.evaluation.functional.fid_inception import InceptionV3
    model = InceptionV3([3], resize_input=True, normalize_input=False,
                        load_fid_inception=False)
    try:
        state = torch.load(path, map_location='cpu', weights_only=True)
    except Exception as err:  # noqa: BLE001 - re-raised with the file and the fix
        raise _unreadable(path, 'PyTorch', err) from err
    if isinstance(state, dict) and 'state_dict' in state:
        state = state['state_dict']
    try:
        model.load_state_dict(_pytorch_fid_key_map(state), strict=True)
    except (KeyError, RuntimeError) as err:
        detail = (str(err).strip().splitlines() or [''])[0][:200]
        raise RuntimeError(f'{path} is not pytorch-fid\'s Inception state dict '
                           f'(pt_inception-2015-12-05-*.pth): {detail}') from err
    return model


def default_inception_path(style: str) -> str:
    """Where mmagic / pytorch-fid keep the weights of ``style`` once downloaded:
    ``~/.cache/openmmlab/mmagic/inception-2015-12-05.pt`` ('StyleGAN') or
    ``$TORCH_HOME/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth`` ('PyTorch')."""
    if style == 'StyleGAN':
        return osp.expanduser('~/.cache/openmmlab/mmagic/inception-2015-12-05.pt')
    return osp.join(torch.hub.get_dir(), 'checkpoints',
                    'pt_inception-2015-12-05-6726825d.pth')


def load_local_inception(style: str, path=None) -> nn.Module:
    """Load (once) the Inception network of ``style`` from the local file ``path``
    (default: :func:`default_inception_path`). Nothing is downloaded."""
    if style not in INCEPTION_STYLES:
        raise ValueError(f'inception_style must be one of {INCEPTION_STYLES}, got '
                         f'{style!r}')
    if path is None:
        path = default_inception_path(style)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'no Inception weights: inception_path is not set and the default '
                f'location {path} is empty. {_HOW_TO}')
    if '://' in str(path):
        raise ValueError(f'inception_path must be a local file, got the URL {path}. '
                         f'{_HOW_TO}')
    path = osp.abspath(osp.expanduser(str(path)))
    if not osp.isfile(path):
        raise FileNotFoundError(f'Inception weights {path} not found. {_HOW_TO}')
    key = (style, path, os.stat(path).st_mtime)
    if key not in _LOADED:
        if style == 'StyleGAN':
            try:
                model = torch.jit.load(path, map_location='cpu')
            except Exception as err:  # noqa: BLE001 - re-raised with context
                raise _unreadable(path, 'StyleGAN', err) from err
        else:
            model = _load_pytorch_fid(path)
        model.eval()
        for param in model.parameters():
            param.requires_grad_(False)
        _LOADED[key] = model
    return _LOADED[key]
