"""Build an mmagic 1.2.0 ``BaseTranslationModel`` subclass without its generator loop.

Problem: ``BaseTranslationModel.__init__`` builds one generator (and discriminator) per
reachable domain from one config, and ``BaseTranslationModel.init_weights`` indexes
``generators[domain]`` for each of them, while one CEN generator serves every task at
once (its per-domain decoders live inside it). mmagic 1.2.0 has no overridable builder.

Workaround: :func:`init_translation_model` runs only ``BaseModel.__init__`` and sets the
three domain attributes the base class's methods read (``_default_domain``,
``_reachable_domains``, ``_related_domains``); :func:`init_weights_as_base_module`
initialises through ``BaseModel.init_weights`` (each CEN network initialises itself,
avoiding mmagic 1.2.0's ``generation_init_weights``, which raises ``UnboundLocalError``:
see :mod:`cen_mm.models.generators.weight_init`).
The subclass keeps the base class's other methods (e.g. ``forward``,
``is_domain_reachable``, ``get_module``).

Retire when: the model no longer subclasses ``BaseTranslationModel`` (derive from
``BaseModel`` and re-declare the few methods used), or mmagic builds its generators
through an overridable method.
"""
from typing import Optional, Sequence, Union

import torch.nn as nn
from mmengine.model import BaseModel


def init_translation_model(model: BaseModel, *, data_preprocessor: Union[nn.Module,
                                                                          dict, None],
                           init_cfg: Optional[dict], default_domain: str,
                           reachable_domains: Sequence[str],
                           related_domains: Sequence[str]) -> None:
    """``BaseModel.__init__`` plus the domain state of ``BaseTranslationModel``."""
    if default_domain not in reachable_domains:
        raise ValueError(f'default domain {default_domain!r} is not one of the '
                         f'reachable domains {list(reachable_domains)}')
    if not set(reachable_domains) <= set(related_domains):
        raise ValueError(f'reachable domains {list(reachable_domains)} must be among '
                         f'the related domains {list(related_domains)}')
    BaseModel.__init__(model, data_preprocessor=data_preprocessor, init_cfg=init_cfg)
    model._default_domain = default_domain
    model._reachable_domains = list(reachable_domains)
    model._related_domains = list(related_domains)


def init_weights_as_base_module(model: BaseModel) -> None:
    """``BaseModule.init_weights`` recursion (not the per-domain loop of
    ``BaseTranslationModel.init_weights``)."""
    BaseModel.init_weights(model)
