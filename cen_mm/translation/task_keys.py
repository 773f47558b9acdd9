"""Config entries that follow from a translation config's ``tasks``.

A translation experiment is its ``tasks``, e.g.
``[dict(inputs=['rgb', 'depth_euclidean'], target='normal'), ...]`` (M input domains
-> one target per task). Everything below is implied by them, so the configs leave it
``None`` / empty and it is filled here, once:

* ``{train,val,test}_dataloader.dataset.domains``: every domain the tasks use, in
  order of first use (inputs, then target, task by task), see :func:`task_domains`;
* ``{val,test}_evaluator.metrics``: the metric templates ``rgb_metrics`` (FID, KID)
  for RGB targets and ``pixel_metrics`` (MAE, RMSE) for the others, for every output
  of :func:`evaluated_outputs` (with ``fake_key``, ``real_key``, ``prefix``);
* ``visualizer.img_keys``: the domains, then the evaluated outputs.

Entries a config sets itself are kept. :class:`CENTranslationRunner` (the translation
configs' ``runner_type``) applies :func:`fill_task_keys` before building anything, so
``tools/train.py`` / ``tools/test.py`` and ``Runner.from_cfg`` see the complete config;
code that reads a config without a runner calls :func:`fill_task_keys` itself.
"""
import copy
from typing import List, Sequence, Tuple

from mmengine.config import Config
from mmengine.registry import RUNNERS

from cen_mm.engine.runner import CENRunner

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')
EVALUATORS = ('val_evaluator', 'test_evaluator')


def _where(cfg) -> str:
    return getattr(cfg, 'filename', None) or 'the config'


def check_tasks(tasks, where: str = 'the config') -> None:
    """Raise ``ValueError`` unless ``tasks`` is a non-empty list of
    ``dict(inputs=[domain, ...], target=domain)``."""
    hint = ("expected `tasks = [dict(inputs=['rgb', 'depth_euclidean'], "
            "target='normal'), ...]`")
    if isinstance(tasks, (str, dict)) or not isinstance(tasks, Sequence) or not tasks:
        raise ValueError(f'{where}: `tasks` must be a non-empty list, got {tasks!r}; '
                         f'{hint}')
    for i, task in enumerate(tasks):
        inputs = task.get('inputs') if isinstance(task, dict) else None
        target = task.get('target') if isinstance(task, dict) else None
        if (isinstance(inputs, str) or not isinstance(inputs, Sequence) or not inputs
                or not all(isinstance(d, str) and d for d in inputs)
                or not isinstance(target, str) or not target):
            raise ValueError(f'{where}: `tasks[{i}]` = {task!r} is not a task; {hint}')


def task_domains(tasks) -> List[str]:
    """Every domain of ``tasks`` once, in order of first use (inputs, then target)."""
    domains = []
    for task in tasks:
        for domain in (*task['inputs'], task['target']):
            if domain not in domains:
                domains.append(domain)
    return domains


def evaluated_outputs(tasks) -> List[Tuple[str, str]]:
    """``(target, fake_key)`` of every evaluated output: each task's ensemble
    ``fake_<target>`` and, with M >= 2 inputs, every stream
    ``fake_<target>_from_<d>``."""
    outputs = []
    for task in tasks:
        target = task['target']
        outputs.append((target, f'fake_{target}'))
        if len(task['inputs']) > 1:
            outputs += [(target, f'fake_{target}_from_{d}') for d in task['inputs']]
    return outputs


def evaluation_metrics(tasks, rgb_metrics, pixel_metrics) -> List[dict]:
    """The metric configs for every evaluated output: ``rgb_metrics`` for RGB targets,
    ``pixel_metrics`` for the others, each with ``fake_key``, ``real_key`` and
    ``prefix`` (the output name without ``fake_``)."""
    return [
        dict(copy.deepcopy(dict(m)), fake_key=key, real_key=f'img_{target}',
             prefix=key[len('fake_'):])
        for target, key in evaluated_outputs(tasks)
        for m in (rgb_metrics if target == 'rgb' else pixel_metrics)
    ]


def fill_task_keys(cfg: Config) -> Config:
    """Fill, in place, the entries of ``cfg`` that follow from ``cfg.tasks`` and are
    unset (``None`` / empty); a config without ``tasks`` is returned unchanged."""
    tasks = cfg.get('tasks')
    if tasks is None:
        return cfg
    where = _where(cfg)
    check_tasks(tasks, where)
    domains = task_domains(tasks)
    for loader in LOADERS:
        dataset = (cfg.get(loader) or {}).get('dataset')
        if dataset is not None and dataset.get('domains') is None:
            dataset['domains'] = list(domains)
    for name in EVALUATORS:
        evaluator = cfg.get(name)
        if not isinstance(evaluator, dict) or evaluator.get('metrics') is not None:
            continue
        missing = [k for k in ('rgb_metrics', 'pixel_metrics') if cfg.get(k) is None]
        if missing:
            raise KeyError(f'{where}: `{name}.metrics` is unset, so it is built from '
                           f'the metric templates, but {missing} are missing; inherit '
                           f'configs/_base_/translation/cen_pix2pix_runtime.py or set '
                           f'`{name}.metrics`')
        evaluator['metrics'] = evaluation_metrics(tasks, cfg.rgb_metrics,
                                                  cfg.pixel_metrics)
    visualizer = cfg.get('visualizer')
    if isinstance(visualizer, dict) and not visualizer.get('img_keys'):
        visualizer['img_keys'] = [f'img_{d}' for d in domains] + [
            key for _, key in evaluated_outputs(tasks)]
    return cfg


@RUNNERS.register_module()
class CENTranslationRunner(CENRunner):
    """:class:`CENRunner` for translation configs: :func:`fill_task_keys` first."""

    @classmethod
    def from_cfg(cls, cfg) -> 'CENTranslationRunner':
        return super().from_cfg(fill_task_keys(copy.deepcopy(cfg)))
