"""Config preparation shared by ``tools/train.py`` and ``tools/test.py`` (both scopes).

Only what the stock OpenMMLab tools do not handle lives here: CPU-only distributed runs
(gloo), ``--amp`` for mmagic's dict of optimizer wrappers, the mmdet-style
``--resume [CKPT]``, ``--cfg-options data_root=X`` reaching the dataloaders, and
building the runner (``CENRunner`` unless the config names another ``runner_type``).
"""
import os
import subprocess

import torch
import torch.distributed as torch_dist
from mmengine.config import Config, ConfigDict

from cen_mm.compat.process_exit import exit_skipping_gloo_teardown
from cen_mm.engine.runner import (CPU_SAFE_WRAPPERS, CENRunner, CheckpointNotFoundError,
                                  UnwritableOutputError)


# Set when setup_distributed initialised the CPU gloo group itself.
_OWN_GLOO_GROUP = False


def _init_gloo_from_slurm_env():
    """Export torch.distributed env vars from SLURM's (CPU nodes, no torchrun)."""
    node_list = os.environ['SLURM_NODELIST']
    addr = subprocess.getoutput(f'scontrol show hostname {node_list} | head -n1')
    os.environ.setdefault('MASTER_ADDR', addr)
    os.environ.setdefault('MASTER_PORT', '29500')
    os.environ['WORLD_SIZE'] = os.environ['SLURM_NTASKS']
    os.environ['RANK'] = os.environ['SLURM_PROCID']
    os.environ['LOCAL_RANK'] = os.environ.get('SLURM_LOCALID', '0')


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` for ``launcher``; on CPU-only machines initialise gloo ourselves.

    mmengine 0.10.7's launchers call ``torch.cuda.set_device`` and its DDP wrapper passes
    ``device_ids``; both fail without a GPU. Initialising the gloo process group before
    the Runner is built makes the Runner skip its own initialisation, and the CPU-safe
    wrappers drop ``device_ids``. With CUDA available nothing changes (nccl, mmengine's
    own path).
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher not in ('pytorch', 'slurm'):
        raise ValueError(f'--launcher {launcher} is not supported on CPU-only machines '
                         "(use 'pytorch' via tools/dist_train.sh or 'slurm')")
    cfg.setdefault('env_cfg', ConfigDict())
    cfg.env_cfg.setdefault('dist_cfg', ConfigDict())
    cfg.env_cfg.dist_cfg['backend'] = 'gloo'
    wrapper = cfg.get('model_wrapper_cfg') or ConfigDict()
    if wrapper.get('type') in CPU_SAFE_WRAPPERS:
        wrapper['type'] = CPU_SAFE_WRAPPERS[wrapper.get('type')]
    cfg.model_wrapper_cfg = wrapper
    if not torch_dist.is_initialized():
        if launcher == 'slurm':
            _init_gloo_from_slurm_env()
        torch_dist.init_process_group(backend='gloo')
        global _OWN_GLOO_GROUP
        _OWN_GLOO_GROUP = True


def teardown_distributed() -> None:
    """End a successful distributed run cleanly (no-op without a process group).

    All ranks meet at a barrier first, so none leaves while another still sends. For the
    CPU gloo group that :func:`setup_distributed` created, the process then exits at
    once (:func:`cen_mm.compat.exit_skipping_gloo_teardown`: flush the logs, then
    ``os._exit(0)``): gloo's C++ teardown at the end of
    a process occasionally aborts ("terminate called without an active exception",
    exit code -6; seen at the end of runs with and without ``destroy_process_group``) after
    all work is done and written, which torchrun reports as a failed run. mmengine's
    Runner never tears the group down. Other groups (nccl, or one the caller created)
    are destroyed normally.
    """
    if not (torch_dist.is_available() and torch_dist.is_initialized()):
        return
    torch_dist.barrier()
    if _OWN_GLOO_GROUP:
        exit_skipping_gloo_teardown()
    torch_dist.destroy_process_group()


def enable_amp(cfg: Config) -> None:
    """Switch every optimizer wrapper of ``cfg`` to ``AmpOptimWrapper``.

    Handles mmseg's single wrapper (``optim_wrapper=dict(type='OptimWrapper', ...)``) and
    mmagic's dict of wrappers (``optim_wrapper=dict(generator=dict(...),
    discriminator=dict(...))`` built by a MultiOptimWrapperConstructor).
    """
    optim_wrapper = cfg.get('optim_wrapper')
    if optim_wrapper is None:
        raise ValueError('--amp needs an `optim_wrapper` in the config')

    # mmengine's AmpOptimWrapper refuses to run without a GPU.
    amp_type = 'AmpOptimWrapper' if torch.cuda.is_available() else 'CPUAmpOptimWrapper'

    def _to_amp(wrapper: dict) -> None:
        kind = wrapper.get('type', 'OptimWrapper')
        if kind in ('AmpOptimWrapper', 'CPUAmpOptimWrapper'):
            wrapper['type'] = amp_type
            return
        if kind != 'OptimWrapper':
            raise ValueError(f'--amp: cannot convert optimizer wrapper type {kind!r} '
                             f'to {amp_type!r}')
        wrapper['type'] = amp_type
        wrapper.setdefault('loss_scale', 'dynamic')

    single = 'optimizer' in optim_wrapper or (
        optim_wrapper.get('type') in ('OptimWrapper', 'AmpOptimWrapper',
                                      'CPUAmpOptimWrapper'))
    if single:
        _to_amp(optim_wrapper)
        return
    wrappers = [v for k, v in optim_wrapper.items()
                if k not in ('constructor', 'type') and isinstance(v, dict)]
    if not wrappers:
        raise ValueError(f'--amp: no optimizer wrapper found in {optim_wrapper}')
    for wrapper in wrappers:
        _to_amp(wrapper)


def apply_resume(cfg: Config, resume) -> None:
    """``--resume`` (auto: latest checkpoint of work_dir) or ``--resume PATH``."""
    if resume is None:
        return
    cfg.resume = True
    if resume == 'auto':
        cfg.load_from = None
    else:
        if not os.path.isfile(resume):
            raise CheckpointNotFoundError(
                f'--resume: checkpoint {resume!r} does not exist (check the path; '
                '--resume without a value resumes from the work dir\'s latest)')
        cfg.load_from = resume


def enable_auto_scale_lr(cfg: Config) -> None:
    """``--auto-scale-lr``: needs ``auto_scale_lr=dict(base_batch_size=...)`` in cfg."""
    scale = cfg.get('auto_scale_lr')
    if not scale or 'base_batch_size' not in scale:
        raise KeyError('--auto-scale-lr needs `auto_scale_lr = dict(enable=False, '
                       'base_batch_size=<total batch size the lr was tuned for>)` '
                       'in the config')
    scale['enable'] = True


def build_runner(cfg: Config):
    """The config's ``runner_type`` if it names one, else :class:`CENRunner` (mmengine's
    ``Runner`` with safe loading, atomic checkpoints and the NaN/Inf guard)."""
    from mmengine.registry import RUNNERS
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return CENRunner.from_cfg(cfg)


def _datasets(node):
    """The dataset dicts of a dataloader's ``dataset`` entry (wrappers included)."""
    if isinstance(node, dict):
        yield node
        for key in ('dataset', 'datasets'):
            inner = node.get(key)
            for child in (inner if isinstance(inner, (list, tuple)) else [inner]):
                yield from _datasets(child)


def apply_data_root(cfg: Config, cfg_options) -> None:
    """``--cfg-options data_root=X``: also set ``data_root`` of every dataloader's
    dataset(s).

    A config's top-level ``data_root`` is substituted into the dataset dicts when the
    file is parsed, so overriding the variable afterwards would change nothing.
    Explicit ``--cfg-options train_dataloader.dataset.data_root=Y`` still win.
    """
    if not cfg_options or 'data_root' not in cfg_options:
        return
    root = cfg_options['data_root']
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if not isinstance(cfg.get(loader), dict):
            continue
        explicit = any(k.startswith(f'{loader}.') and k.endswith('data_root')
                       for k in cfg_options)
        if explicit:
            continue
        for dataset in _datasets(cfg[loader].get('dataset')):
            if 'data_root' in dataset:
                dataset['data_root'] = root


def prepare_work_dir(work_dir: str) -> None:
    """Create ``work_dir`` and check it is writable: one clear error (naming the path
    and the fix) instead of a traceback from deep inside the Runner."""
    try:
        os.makedirs(work_dir, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise UnwritableOutputError(
            f'work dir {work_dir} cannot be created: it or one of its parents is a '
            'file; pass another --work-dir') from None
    except PermissionError as err:
        raise UnwritableOutputError(
            f'work dir {work_dir} cannot be created: permission denied for '
            f'{err.filename}; pass a writable --work-dir') from None
    if not os.access(work_dir, os.W_OK | os.X_OK):
        raise UnwritableOutputError(f'work dir {work_dir} is not writable; pass a '
                                    'writable --work-dir')
