"""``CENRunner``: mmengine's ``Runner`` with cen_mm's safety defaults.

Selected by ``runner_type = 'CENRunner'`` (``configs/_base_/default_runtime.py``, the
translation runtime) and used by ``tools/train.py`` / ``tools/test.py`` for every config
that names no other runner. Compared with ``Runner``:

* default hooks: ``CheckpointHook`` becomes :class:`SafeCheckpointHook` (atomic save,
  rotation after the new file is complete, never a NaN/Inf checkpoint) and
  :class:`NonFiniteGuardHook` is added as ``default_hooks.non_finite_guard``
  (``default_hooks.non_finite_guard=None`` removes it; its keys, e.g. ``patience``, can
  be set in the config or with ``--cfg-options``), and :class:`ClassCountCheckHook`
  (``default_hooks.class_count_check``: heads' ``num_classes`` == dataset classes),
  and :class:`KeptValuesHook` (``default_hooks.kept_values``: the CEN norms' kept
  values are dropped around validation and testing, after ``EMAHook``'s swaps);
* checkpoints are saved atomically (temporary file + rename);
* checkpoints are loaded with the allow-list of
  :mod:`cen_mm.engine.runner.checkpoint_loader` unless ``unsafe_load=True`` (logged);
* ``test()`` / ``val()`` load ``load_from`` strictly (missing, unexpected or mis-shaped
  keys are a :class:`CheckpointMismatchError` naming them) unless
  ``strict_test_load=False``; ``resume`` is always strict;
* ``resume=True`` without ``load_from`` fails if the work dir has no checkpoint
  (instead of silently training from scratch).
"""
import contextlib
import os.path as osp

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import RUNNERS
from mmengine.runner import Runner
from mmengine.runner.checkpoint import find_latest_checkpoint

from cen_mm.compat.mmengine_runner import pending_auto_resume
from cen_mm.compat.optim_wrapper import plain_param_groups

from .atomic_save import atomic_write
from .checkpoint_loader import unsafe_checkpoint_loading
from .errors import CheckpointMismatchError, CheckpointNotFoundError, SafetyError


def with_safety_hooks(default_hooks):
    """``default_hooks`` with ``SafeCheckpointHook``, ``NonFiniteGuardHook``,
    ``ClassCountCheckHook`` and ``KeptValuesHook``."""
    hooks = dict(default_hooks or {})
    ckpt = hooks.get('checkpoint', 'absent')
    if ckpt == 'absent':  # mmengine's default: CheckpointHook(interval=1)
        hooks['checkpoint'] = dict(type='SafeCheckpointHook', interval=1)
    elif isinstance(ckpt, dict) and ckpt.get('type') in ('CheckpointHook',
                                                         CheckpointHook):
        hooks['checkpoint'] = dict(ckpt, type='SafeCheckpointHook')
    for key, hook_type in (('non_finite_guard', 'NonFiniteGuardHook'),
                           ('class_count_check', 'ClassCountCheckHook'),
                           ('kept_values', 'KeptValuesHook')):
        hook = hooks.get(key, {})
        if isinstance(hook, dict):  # None removes it
            hooks[key] = dict(dict(type=hook_type), **hook)
    return hooks


@RUNNERS.register_module()


class CENRunner(Runner):
    """``Runner`` with safe loading, atomic saving and the NaN/Inf guard (see module)."""

    saves_atomically = True

    def __init__(self, *args, **kwargs):
        cfg = kwargs.get('cfg') or {}
        kwargs['default_hooks'] = with_safety_hooks(kwargs.get('default_hooks'))
        self._unsafe_load = bool(cfg.get('unsafe_load', False))
        self._strict_test_load = bool(cfg.get('strict_test_load', True))
        self._force_strict = False
        super().__init__(*args, **kwargs)
        if self._unsafe_load:
            self.logger.warning(
                '!' * 79 + '\nUNSAFE LOAD ENABLED (--unsafe-load / unsafe_load=True): '
                'checkpoints are fully unpickled, so a malicious file can run code on '
                'this machine. Use it only for files you trust.\n' + '!' * 79)

    # ------------------------------------------------------------------ optimizer
    def build_optim_wrapper(self, optim_wrapper):
        """mmengine's optimizer, with its param groups as plain dicts (see
        :func:`cen_mm.compat.optim_wrapper.plain_param_groups`)."""
        return plain_param_groups(super().build_optim_wrapper(optim_wrapper))

    # ------------------------------------------------------------------ loading
    def _load_policy(self):
        return (unsafe_checkpoint_loading() if self._unsafe_load
                else contextlib.nullcontext())

    def train(self):
        with self._load_policy():
            return super().train()

    def _evaluate(self, run):
        self._force_strict = self._strict_test_load
        try:
            with self._load_policy():
                return run()
        finally:
            self._force_strict = False

    def val(self):
        return self._evaluate(super().val)

    def test(self):
        return self._evaluate(super().test)

    def load_or_resume(self) -> None:
        if pending_auto_resume(self):
            latest = find_latest_checkpoint(self.work_dir)
            if latest is None:
                raise CheckpointNotFoundError(
                    f'--resume: no checkpoint to resume from in the work dir '
                    f'{self.work_dir} (it has no last_checkpoint file). Check '
                    '--work-dir, pass --resume PATH, or drop --resume to train from '
                    'scratch.')
            if '://' not in latest and not osp.isfile(latest):
                raise CheckpointNotFoundError(
                    f'--resume: {osp.join(self.work_dir, "last_checkpoint")} names '
                    f'{latest}, which does not exist. Pass --resume PATH with an '
                    'existing checkpoint of this run.')
        super().load_or_resume()

    def resume(self, filename, *args, **kwargs):
        previous, self._force_strict = self._force_strict, True
        try:
            return super().resume(filename, *args, **kwargs)
        except CheckpointMismatchError as err:
            raise CheckpointMismatchError(
                f'{err}\n--resume needs a checkpoint of this same config. To start from '
                "another model's weights, use --cfg-options load_from=CKPT without "
                '--resume.') from None
        finally:
            self._force_strict = previous

    def load_checkpoint(self, filename, map_location='cpu', strict=False,
                        revise_keys=[(r'^module.', '')]):
        strict = strict or self._force_strict
        try:
            return super().load_checkpoint(filename, map_location=map_location,
                                           strict=strict, revise_keys=revise_keys)
        except SafetyError:
            raise
        except RuntimeError as err:
            if not strict:
                raise
            config = getattr(self.cfg, 'filename', None) or 'the config'
            raise CheckpointMismatchError(
                f'checkpoint {filename} does not fit the model of {config}:\n'
                f'{str(err).strip()}\nUse the checkpoint trained with this config, or '
                'load it non-strictly (tools/test.py --non-strict-load, or '
                'strict_test_load=False in the config) if that is really '
                'intended.') from None

    # ------------------------------------------------------------------- saving
    def save_checkpoint(self, out_dir, filename, *args, **kwargs):
        """``Runner.save_checkpoint``, written to a temporary file and renamed."""
        if '://' in str(out_dir):  # remote storage: mmengine's backend as is
            return super().save_checkpoint(out_dir, filename, *args, **kwargs)
        if not is_main_process():
            return None
        atomic_write(osp.join(out_dir, filename),
                     lambda tmp: super(CENRunner, self).save_checkpoint(
                         out_dir, osp.basename(tmp), *args, **kwargs))
