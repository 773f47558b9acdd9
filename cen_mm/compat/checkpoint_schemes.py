"""cen_mm's safe loaders in place of mmengine's ``''`` and ``http(s)://`` schemes.

Problem: torch >= 2.6 defaults ``torch.load(weights_only=True)``; mmengine 0.10.7's
loaders call plain ``torch.load``, so ``--resume`` fails on its own checkpoints
("Unsupported global ... HistoryBuffer"), and the usual fix (``weights_only=False``
everywhere) would unpickle untrusted downloads.

Workaround: register :func:`cen_mm.engine.runner.checkpoint_loader.load_from_local` and
``load_from_url`` (weights-only load + a measured allow-list, a cen_mm feature that
stays in ``engine/runner``) for those prefixes with ``force=True``, through mmengine's
public ``CheckpointLoader.register_scheme``. Everything that loads through mmengine
(``load_from``, ``--resume``, ``init_cfg=dict(type='Pretrained')``, inferencers) then
loads safely. ``open-mmlab://``, ``mmcls://``, ``s3://`` etc. keep mmengine's loaders.

Retire when: mmengine loads checkpoints with ``weights_only=True`` and an allow-list of
its own (onedl-mmengine 0.10.12 does; upstream mmengine <= 0.10.7 does not).
"""


def register_safe_checkpoint_schemes() -> None:
    """Make mmengine load local and http(s) checkpoints with cen_mm's safe loaders."""
    from mmengine.runner.checkpoint import CheckpointLoader

    from cen_mm.engine.runner.checkpoint_loader import (load_from_local,
                                                        load_from_url)
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local, force=True)
    CheckpointLoader.register_scheme(prefixes=('http://', 'https://'),
                                     loader=load_from_url, force=True)
