"""``CENPix2Pix``: Pix2Pix training/testing for CEN generators with many streams.

Generalises mmagic's :class:`~mmagic.models.Pix2Pix` (one input domain -> one output) to
a list of *tasks*, each ``dict(inputs=[d_1, ..., d_M], target=d)``; every task has the
same number M of input streams. This one description covers the papers' settings
(TPAMI'23 §3.2–3.5):

=================================  ==================================================
multimodal fusion (Tables 4, 5)    ``[dict(inputs=['reshading', 'edge_texture'],
                                   target='rgb')]``
multitask (Tables 7, 8)            ``[dict(inputs=['rgb'], target='depth_zbuffer'),
                                   dict(inputs=['rgb'], target='normal')]``
multimodal multitask (Table 9)     the same inputs list (M >= 2) for several targets
cycle fusion (Table 6)             one task per flow: ``{x_m}_{m != j} -> x_j``;
                                   ``task_sampling='random'`` trains one random flow per
                                   step (CEN-random), ``'all'`` every flow (CEN-cycle)
=================================  ==================================================

Inputs are stacked task-major for the generator (see
:class:`cen_mm.models.generators.CENUnetGenerator`). Losses per step, summed over the
active tasks t and their input streams m (as the official code sums over streams):

* discriminator: ``0.5 · Σ_{t,m} [BCE(D(x_{t,m}, y_t), 1) + BCE(D(x_{t,m}, ŷ_{t,m}), 0)]``
  with one PatchGAN shared by all (input stream, output) pairs (or one per target with
  ``shared_discriminator=False``);
* generator: ``Σ_{t,m} BCE(D(x_{t,m}, ŷ_{t,m}), 1) + λ_L1 · Σ_{t,m} |ŷ_{t,m} - y_t|₁
  + λ_L1 · Σ_t |ŷ_t^ens - y_t|₁`` (λ_L1 = 100). The ensemble is built from detached
  stream outputs, so its L1 term trains only the decision scores α (no GAN term on it,
  as in the official code).

Test/val outputs per sample (mmagic ``DataSample``, BGR 0–255 like every mmagic
translation model): ``fake_{target}`` (the ensemble; for M = 1 the only output) and, for
M >= 2, ``fake_{target}_from_{input}`` for every stream.

mmagic 1.2.0 bugs avoided here: ``Pix2Pix.test_step`` indexes a stacked
``DataSample`` (no ``.split()``), ``get_other_domains`` returns set order, and
``BaseTranslationModel``/``generation_init_weights`` initialisation raises
``UnboundLocalError`` (the CEN networks initialise themselves).
"""
from copy import deepcopy
from typing import Dict, List, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine import MessageHub
from mmengine.dist import broadcast_object_list, get_world_size
from mmengine.model import BaseModule, ModuleDict
from mmengine.optim import OptimWrapperDict

from mmagic.models.base_models import BaseTranslationModel
from mmagic.models.utils import set_requires_grad
from mmagic.registry import MODELS
from mmagic.structures import DataSample

from cen_mm.compat.mmagic_translation import (init_translation_model,
                                              init_weights_as_base_module)
from cen_mm.compat.optim_wrapper import accumulative_counts

TASK_SAMPLING = ('all', 'random')


class TranslationTask:
    """One task: M input domains -> one target domain."""

    def __init__(self, inputs: Sequence[str], target: str):
        self.inputs = tuple(inputs)
        self.target = target

    def stream_key(self, m: int) -> str:
        """Data-sample key of stream m's prediction."""
        return f'fake_{self.target}_from_{self.inputs[m]}'

    @property
    def ensemble_key(self) -> str:
        return f'fake_{self.target}'

    def __repr__(self) -> str:
        return f'{"+".join(self.inputs)}->{self.target}'


def parse_tasks(tasks: Sequence[dict]) -> List[TranslationTask]:
    """Validate the ``tasks`` config and return :class:`TranslationTask` objects."""
    if not isinstance(tasks, (list, tuple)) or not tasks:
        raise ValueError('CENPix2Pix: `tasks` must be a non-empty list of '
                         "dict(inputs=[...], target='...'), got " + repr(tasks))
    parsed = []
    for i, task in enumerate(tasks):
        if not isinstance(task, dict) or set(task) != {'inputs', 'target'}:
            raise ValueError(f'CENPix2Pix: tasks[{i}] must be dict(inputs=[...], '
                             f"target='...'), got {task!r}")
        inputs, target = task['inputs'], task['target']
        if isinstance(inputs, str) or not inputs:
            raise ValueError(f'CENPix2Pix: tasks[{i}].inputs must be a non-empty list '
                             f'of domain names, got {inputs!r}')
        names = list(inputs) + [target]
        for name in names:
            if not isinstance(name, str) or not name.isidentifier():
                raise ValueError(f'CENPix2Pix: tasks[{i}]: domain names must be '
                                 f'identifiers (they become data keys), got {name!r}')
        if target in inputs or len(set(inputs)) != len(inputs):
            raise ValueError(f'CENPix2Pix: tasks[{i}] = {task!r}: inputs must be '
                             'distinct and must not contain the target')
        parsed.append(TranslationTask(inputs, target))
    num_inputs = {len(t.inputs) for t in parsed}
    if len(num_inputs) != 1:
        raise ValueError('CENPix2Pix: every task needs the same number of inputs (one '
                         f'set of streams), got {[repr(t) for t in parsed]}')
    targets = [t.target for t in parsed]
    if len(set(targets)) != len(targets):
        raise ValueError(f'CENPix2Pix: targets must be distinct, got {targets}')
    return parsed


class TaskDiscriminators(BaseModule):
    """The PatchGAN(s) of a CEN translation model behind one ``forward``.

    One network shared by every task (``nets['shared']``) or one per target domain
    (``nets[target]``). A single module called through its own ``forward`` is what
    mmagic's ``MMSeparateDistributedDataParallel`` wraps, so DDP synchronises its
    gradients (calling networks inside a wrapped ``ModuleDict`` would bypass DDP).

    ``forward(pairs, targets)``: (T'·R, C, H, W) (condition, image) pairs stacked
    task-major, ``targets`` the T' target domains -> (T'·R, 1, h, w) patch logits.
    """

    def __init__(self, discriminator: dict, targets: Sequence[str], shared: bool):
        super().__init__()
        keys = ['shared'] if shared else list(targets)
        self.shared = shared
        self.nets = ModuleDict({k: MODELS.build(deepcopy(discriminator)) for k in keys})

    def forward(self, pairs: torch.Tensor, targets: Sequence[str]) -> torch.Tensor:
        if self.shared:
            return self.nets['shared'](pairs)
        blocks = pairs.split(pairs.shape[0] // len(targets))
        return torch.cat([self.nets[t](b) for t, b in zip(targets, blocks)])


@MODELS.register_module()
class CENPix2Pix(BaseTranslationModel):
    """Pix2Pix with a CEN generator: (cycle) multimodal fusion, (multimodal) multitask.

    Args:
        generator: config of the generator, e.g. ``dict(type='CENUnetGenerator')``;
            ``num_inputs``/``num_tasks`` are filled in from ``tasks``.
        discriminator: config of the PatchGAN (``in_channels`` = input + output
            channels), or None (testing only).
        tasks: list of ``dict(inputs=[...], target=...)`` (see module docstring).
        data_preprocessor: mmagic ``DataPreprocessor`` config; its ``data_keys``
            default to ``img_{domain}`` of every domain involved.
        task_sampling: ``'all'`` tasks every training step or one ``'random'`` task
            (CEN-random; use ``find_unused_parameters=True`` under DDP).
        shared_discriminator: one discriminator for every task (default) or one per
            target domain.
        loss_config: ``pixel_loss_weight`` (100), ``gan_loss_weight`` (1),
            ``ensemble_loss`` (True: L1 on the ensemble, which trains α).
        discriminator_steps, disc_init_steps: as mmagic's translation models.
        test_in_train_mode: run the generator in train mode at test time (dropout on),
            as Pix2Pix, mmagic's ``Pix2Pix.forward_test`` and the official CEN code do.
            Set False for deterministic outputs.
    """

    def __init__(self,
                 generator: dict,
                 discriminator: Optional[dict],
                 tasks: Sequence[dict],
                 data_preprocessor: Union[dict, nn.Module, None] = None,
                 task_sampling: str = 'all',
                 shared_discriminator: bool = True,
                 loss_config: Optional[dict] = None,
                 discriminator_steps: int = 1,
                 disc_init_steps: int = 0,
                 test_in_train_mode: bool = True,
                 init_cfg: Optional[dict] = None):
        parsed_tasks = parse_tasks(tasks)
        domains = []
        for task in parsed_tasks:
            for d in (*task.inputs, task.target):
                if d not in domains:
                    domains.append(d)
        if data_preprocessor is None:
            data_preprocessor = dict(type='DataPreprocessor')
        if isinstance(data_preprocessor, dict):
            data_preprocessor = deepcopy(data_preprocessor)
            data_preprocessor.setdefault('data_keys', [f'img_{d}' for d in domains])
            data_preprocessor = MODELS.build(data_preprocessor)
        # BaseTranslationModel.__init__ builds one generator per reachable domain; the
        # CEN generator serves every task at once (see cen_mm.compat.mmagic_translation)
        init_translation_model(self, data_preprocessor=data_preprocessor,
                               init_cfg=init_cfg,
                               default_domain=parsed_tasks[0].target,
                               reachable_domains=[t.target for t in parsed_tasks],
                               related_domains=domains)
        self.tasks = parsed_tasks
        if task_sampling not in TASK_SAMPLING:
            raise ValueError(f'CENPix2Pix: task_sampling must be one of '
                             f'{TASK_SAMPLING}, got {task_sampling!r}')
        self.task_sampling = task_sampling
        self.num_inputs = len(self.tasks[0].inputs)
        self.discriminator_steps = discriminator_steps
        self.disc_init_steps = disc_init_steps
        self.test_in_train_mode = test_in_train_mode
        self.loss_config = dict() if loss_config is None else dict(loss_config)
        unknown = set(self.loss_config) - {
            'pixel_loss_weight', 'gan_loss_weight', 'ensemble_loss'
        }
        if unknown:
            raise ValueError(f'CENPix2Pix: unknown loss_config keys {sorted(unknown)}')
        self.pixel_loss_weight = float(self.loss_config.get('pixel_loss_weight', 100.))
        self.gan_loss_weight = float(self.loss_config.get('gan_loss_weight', 1.))
        self.ensemble_loss = bool(self.loss_config.get('ensemble_loss', True))

        gen_cfg = deepcopy(generator)
        for key, value in (('num_inputs', self.num_inputs),
                           ('num_tasks', len(self.tasks))):
            if gen_cfg.get(key, value) != value:
                raise ValueError(f'CENPix2Pix: generator.{key}={gen_cfg[key]} but the '
                                 f'{len(self.tasks)} task(s) {self.tasks} need {value}')
            gen_cfg[key] = value
        # `generators`/`discriminators` are the names mmagic's
        # MultiOptimWrapperConstructor and MMSeparateDistributedDataParallel expect; both
        # are called through their own forward (DDP-wrapped in distributed training).
        self.generators = MODELS.build(gen_cfg)
        if discriminator is not None:
            self.discriminators = TaskDiscriminators(discriminator,
                                                     self._reachable_domains,
                                                     shared_discriminator)
        else:
            self.discriminators = None

    # ---- small helpers ---------------------------------------------------------------
    def init_weights(self) -> None:
        # generator and discriminators initialise themselves (mmagic 1.2.0's
        # generation_init_weights raises; see cen_mm.compat.mmagic_translation)
        init_weights_as_base_module(self)

    def get_other_domains(self, domain: str) -> List[str]:
        """Domains other than ``domain``, in a fixed order (mmagic returns set order)."""
        return [d for d in self._related_domains if d != domain]

    def _image(self, inputs: dict, domain: str, task: TranslationTask) -> torch.Tensor:
        key = f'img_{domain}'
        if not isinstance(inputs, dict) or key not in inputs:
            found = sorted(inputs) if isinstance(inputs, dict) else type(inputs)
            raise KeyError(f'CENPix2Pix: task {task} needs input {key!r}, the batch '
                           f'has {found} (pack every domain as img_<domain>)')
        return inputs[key]

    def stack_inputs(self, inputs: dict, task_ids: Sequence[int]) -> torch.Tensor:
        """(T'·M·N, C, H, W): the input streams of the given tasks, task-major."""
        return torch.cat([
            self._image(inputs, d, self.tasks[t]) for t in task_ids
            for d in self.tasks[t].inputs
        ])

    def stack_targets(self, inputs: dict, task_ids: Sequence[int]) -> torch.Tensor:
        """(T', N, C, H, W): the targets of the given tasks."""
        return torch.stack([
            self._image(inputs, self.tasks[t].target, self.tasks[t]) for t in task_ids
        ])

    def _sample_tasks(self) -> List[int]:
        if self.task_sampling == 'all':
            return list(range(len(self.tasks)))
        choice = [int(torch.randint(len(self.tasks), (1, )).item())]
        if get_world_size() > 1:  # every rank must train the same flow
            broadcast_object_list(choice, src=0)
        return choice

    def _run_discriminators(self, cond: torch.Tensor, image: torch.Tensor,
                            task_ids: Sequence[int]) -> torch.Tensor:
        """Patch logits for the stacked (condition, image) pairs, task-major rows."""
        return self.discriminators(torch.cat([cond, image], dim=1),
                                   [self.tasks[t].target for t in task_ids])

    def _gan_loss(self, logits: torch.Tensor, real: bool,
                  num_streams: int) -> torch.Tensor:
        """Σ over streams of the mean BCE of that stream's patch logits."""
        target = torch.ones_like(logits) if real else torch.zeros_like(logits)
        loss = F.binary_cross_entropy_with_logits(logits, target, reduction='none')
        return loss.reshape(num_streams, -1).mean(dim=1).sum()

    # ---- training --------------------------------------------------------------------
    def train_step(self, data: dict,
                   optim_wrapper: OptimWrapperDict) -> Dict[str, torch.Tensor]:
        message_hub = MessageHub.get_current_instance()
        curr_iter = message_hub.get_info('iter')
        data = self.data_preprocessor(data, True)
        inputs = data['inputs']
        task_ids = self._sample_tasks()
        cond = self.stack_inputs(inputs, task_ids)
        targets = self.stack_targets(inputs, task_ids)
        num_streams = len(task_ids) * self.num_inputs

        disc_wrapper = optim_wrapper['discriminators']
        disc_accu_iters = accumulative_counts(disc_wrapper)
        log_vars = dict()
        with disc_wrapper.optim_context(self.discriminators):
            outputs = self.generators(cond, tasks=task_ids)
            streams = outputs['streams']  # (T', M, N, C, H, W)
            fake = streams.reshape(-1, *streams.shape[3:])
            real = targets.unsqueeze(1).expand_as(streams).reshape_as(fake)
            set_requires_grad(self.discriminators, True)
            losses_d = dict(
                loss_gan_d_fake=self._gan_loss(
                    self._run_discriminators(cond, fake.detach(), task_ids), False,
                    num_streams),
                loss_gan_d_real=self._gan_loss(
                    self._run_discriminators(cond, real, task_ids), True,
                    num_streams))
            loss_d, log_vars_d = self.parse_losses(losses_d)
            loss_d = loss_d * 0.5
            disc_wrapper.update_params(loss_d)
            log_vars.update({k: v for k, v in log_vars_d.items() if k != 'loss'})

        if ((curr_iter + 1) % (self.discriminator_steps * disc_accu_iters) == 0
                and curr_iter >= self.disc_init_steps):
            gen_wrapper = optim_wrapper['generators']
            set_requires_grad(self.discriminators, False)
            with gen_wrapper.optim_context(self.generators):
                losses_g = self._generator_losses(cond, outputs, targets, task_ids)
                loss_g, log_vars_g = self.parse_losses(losses_g)
                gen_wrapper.update_params(loss_g)
            log_vars.update({k: v for k, v in log_vars_g.items() if k != 'loss'})
            log_vars.update(self._alpha_log_vars())
        return log_vars

    def _generator_losses(self, cond: torch.Tensor, outputs: dict,
                          targets: torch.Tensor,
                          task_ids: Sequence[int]) -> Dict[str, torch.Tensor]:
        streams = outputs['streams']
        num_streams = streams.shape[0] * streams.shape[1]
        fake = streams.reshape(-1, *streams.shape[3:])
        losses = dict(loss_gan_g=self.gan_loss_weight * self._gan_loss(
            self._run_discriminators(cond, fake, task_ids), True, num_streams))
        # Σ_{t,m} mean|ŷ_{t,m} - y_t|
        l1 = (streams - targets.unsqueeze(1)).abs()
        losses['loss_pixel'] = self.pixel_loss_weight * l1.flatten(2).mean(2).sum()
        if self.num_inputs > 1 and self.ensemble_loss:
            ens_l1 = (outputs['ensemble'] - targets).abs().flatten(1).mean(1)  # (T',)
            losses['loss_pixel_ens'] = self.pixel_loss_weight * ens_l1.sum()
        # auxiliary generator losses, e.g. a fusion baseline's alignment loss
        losses.update(outputs.get('losses', {}))
        return losses

    def _alpha_log_vars(self) -> Dict[str, torch.Tensor]:
        if self.num_inputs < 2:
            return {}
        weights = self.get_module(self.generators).ensemble_weights()
        if weights is None:  # a generator without ensemble weights (fusion baselines)
            return {}
        return {
            f'alpha_{task.target}_{name}': weights[t, m]
            for t, task in enumerate(self.tasks) for m, name in enumerate(task.inputs)
        }

    # ---- testing ---------------------------------------------------------------------
    def forward(self, inputs: dict, data_samples=None, mode: str = 'tensor'):
        """``mode='tensor'``: the generator's dict for all tasks (inputs normalised);
        ``'predict'``: the list of ``DataSample`` that ``test_step`` returns."""
        if mode == 'predict':
            return self._predict(dict(inputs=inputs, data_samples=data_samples),
                                 preprocessed=True)
        if mode != 'tensor':
            raise ValueError(f"CENPix2Pix.forward: mode must be 'tensor' or 'predict', "
                             f'got {mode!r}')
        task_ids = list(range(len(self.tasks)))
        return self.generators(self.stack_inputs(inputs, task_ids), tasks=task_ids)

    def translate(self, inputs: dict) -> dict:
        """Generator outputs for all tasks on normalised ``inputs`` (img_<domain>)."""
        task_ids = list(range(len(self.tasks)))
        generator = self.get_module(self.generators)
        was_training = generator.training
        if self.test_in_train_mode:
            generator.train()
        try:
            return self.generators(self.stack_inputs(inputs, task_ids), tasks=task_ids)
        finally:
            generator.train(was_training)

    def _predict(self, data: dict, preprocessed: bool = False) -> List[DataSample]:
        if not preprocessed:
            data = self.data_preprocessor(data)
        inputs, data_samples = data['inputs'], data['data_samples']
        outputs = self.translate(inputs)
        if isinstance(data_samples, DataSample):
            data_samples = data_samples.split()
        batch = outputs['ensemble'].shape[1]
        results = []
        for idx in range(batch):
            sample = DataSample()
            meta = data_samples[idx] if data_samples else None
            if meta is not None:
                sample.update(meta)
            fakes = {}
            for t, task in enumerate(self.tasks):
                key = f'img_{task.target}'
                fakes[task.ensemble_key] = self.data_preprocessor.destruct(
                    outputs['ensemble'][t, idx], meta, key)
                if self.num_inputs > 1:
                    for m in range(self.num_inputs):
                        fakes[task.stream_key(m)] = self.data_preprocessor.destruct(
                            outputs['streams'][t, m, idx], meta, key)
            sample.set_tensor_data(fakes)
            results.append(sample)
        return results

    def val_step(self, data: dict) -> List[DataSample]:
        return self._predict(data)

    def test_step(self, data: dict) -> List[DataSample]:
        return self._predict(data)
