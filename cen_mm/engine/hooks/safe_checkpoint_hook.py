"""``SafeCheckpointHook``: mmengine's ``CheckpointHook`` with a crash-safe save order.

mmengine 0.10.7 deletes the oldest kept checkpoint *before* writing the new one in
place, then rewrites ``last_checkpoint``: a kill during the write (``max_keep_ckpts=1``)
leaves a truncated file and a ``last_checkpoint`` naming a deleted one. Here every
periodic save is

1. refused (``NonFiniteTrainingError``) if any weight is NaN/Inf — a finite checkpoint
   is never rotated away in favour of a non-finite one;
2. written to a temporary file and renamed onto ``iter_N.pth`` / ``epoch_N.pth``
   (atomic, :mod:`cen_mm.engine.runner.atomic_save`);
3. recorded in ``work_dir/last_checkpoint`` (also atomically) — only now;
4. followed by the deletion of the checkpoint that falls out of ``max_keep_ckpts``.

Everything else (intervals, ``save_last``, ``save_best``, ``out_dir``, ``filename_tmpl``,
the ``keep_ckpt_ids`` bookkeeping across ``--resume``) is mmengine's.
"""
import os.path as osp
from collections import deque

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook
from mmengine.registry import HOOKS
from mmengine.runner import Runner

from cen_mm.engine.runner.atomic_save import atomic_write, atomic_write_text
from cen_mm.engine.runner.errors import NonFiniteTrainingError
from .non_finite_guard_hook import non_finite_tensors


def _is_local(path: str) -> bool:
    return '://' not in str(path)


@HOOKS.register_module()
class SafeCheckpointHook(CheckpointHook):
    """``CheckpointHook`` that saves atomically, rotates last and never saves NaN/Inf.

    Takes exactly :class:`mmengine.hooks.CheckpointHook`'s arguments.
    """

    def _save_checkpoint_with_step(self, runner, step, meta):
        ckpt_filename = self.filename_tmpl.format(step)
        bad = non_finite_tensors(runner.model)
        if bad:
            last = getattr(self, 'last_ckpt', None) or \
                runner.message_hub.get_info('last_ckpt')
            msg = (f'refusing to save {ckpt_filename}: non-finite weights '
                   f'({", ".join(bad)}); '
                   + (f'the last finite checkpoint is {last}. ' if last else '')
                   + 'Lower the learning rate or add gradient clipping.')
            runner.logger.error(msg)
            raise NonFiniteTrainingError(msg)

        # the state recorded in the checkpoint (as mmengine does), committed only once
        # the file is complete
        kept, outdated = list(getattr(self, 'keep_ckpt_ids', ())), None
        if self.max_keep_ckpts > 0 and not (kept and kept[-1] == step):
            kept.append(step)
            if len(kept) > self.max_keep_ckpts:
                outdated = kept.pop(0)
        last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        hub = runner.message_hub
        previous = {k: hub.runtime_info[k] for k in ('keep_ckpt_ids', 'last_ckpt')
                    if k in hub.runtime_info}
        if self.max_keep_ckpts > 0:
            hub.update_info('keep_ckpt_ids', list(kept))
        hub.update_info('last_ckpt', last_ckpt)
        save_kwargs = dict(
            file_client_args=self.file_client_args, save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler, meta=meta,
            by_epoch=self.by_epoch, backend_args=self.backend_args, **self.args)
        stock_save = getattr(type(runner), 'save_checkpoint', None) is \
            Runner.save_checkpoint  # master-only, writes in place
        try:
            if not (stock_save and _is_local(self.out_dir)):
                # CENRunner (atomic itself), remote storage, or a sharded runner
                runner.save_checkpoint(self.out_dir, ckpt_filename, **save_kwargs)
            elif is_main_process():
                # a stock Runner: write under a temporary name, then rename
                atomic_write(osp.join(self.out_dir, ckpt_filename),
                             lambda tmp: runner.save_checkpoint(
                                 self.out_dir, osp.basename(tmp), **save_kwargs))
        except BaseException:
            for key in ('keep_ckpt_ids', 'last_ckpt'):
                if key in previous:
                    hub.update_info(key, previous[key])
            raise
        if self.max_keep_ckpts > 0:
            self.keep_ckpt_ids = deque(kept)
        self.last_ckpt = last_ckpt

        if not is_main_process():
            return
        atomic_write_text(osp.join(runner.work_dir, 'last_checkpoint'),
                          str(self.last_ckpt))
        if outdated is not None:
            path = self.file_backend.join_path(self.out_dir,
                                               self.filename_tmpl.format(outdated))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)
