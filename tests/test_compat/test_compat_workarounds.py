"""cen_mm.compat: each workaround does what it says, and the upstream problem it works
around is still there on the pinned stack (when one of the ``*_still_needed`` tests
fails, upstream fixed it: retire the workaround, see docs/compat.md)."""
import os.path as osp
import pickle
import subprocess
import sys

import pytest
import torch
import torch.nn as nn
from mmengine.logging import HistoryBuffer
from mmengine.optim import OptimWrapper
from mmengine.runner.checkpoint import CheckpointLoader

import cen_mm  # noqa: F401  (switches the import-time workarounds on)
from cen_mm.compat.mmengine_runner import pending_auto_resume
from cen_mm.compat.mmpretrain_heads import cls_head_loss, cls_head_predictions
from cen_mm.compat.optim_wrapper import (accumulative_counts, restore_clip_grad,
                                         run_before_clip_grad)
from cen_mm.engine.runner.checkpoint_loader import load_from_local, load_from_url

ROOT = osp.abspath(osp.join(osp.dirname(__file__), '..', '..'))


# ---- checkpoint schemes -----------------------------------------------------------
def test_safe_loaders_replace_only_local_and_http_schemes():
    get = CheckpointLoader._get_checkpoint_loader
    assert get('work_dirs/iter_2.pth') is load_from_local
    assert get('http://host/x.pth') is load_from_url
    assert get('https://host/x.pth') is load_from_url
    # other schemes keep mmengine's loaders
    assert get('open-mmlab://resnet50_v1c').__module__ == 'mmengine.runner.checkpoint'


def test_checkpoint_schemes_still_needed(tmp_path):
    """torch >= 2.6 weights-only loading rejects what mmengine writes (a message-hub
    HistoryBuffer), and mmengine 0.10.7's own local loader uses that default."""
    path = str(tmp_path / 'ckpt.pth')
    buffer = HistoryBuffer()
    buffer.update(1.5)
    torch.save(dict(message_hub=dict(log_scalars=dict(loss=buffer)),
                    state_dict=dict(w=torch.ones(2))), path)
    from mmengine.runner.checkpoint import load_from_local as mmengine_local
    with pytest.raises(pickle.UnpicklingError, match='HistoryBuffer'):
        mmengine_local(path, map_location='cpu')
    loaded = load_from_local(path, map_location='cpu')
    assert torch.equal(loaded['state_dict']['w'], torch.ones(2))
    assert loaded['message_hub']['log_scalars']['loss'].current() == 1.5


# ---- transformers -----------------------------------------------------------------
def test_transformers_deferral_still_needed():
    import mmengine.optim.optimizer.builder as builder
    assert hasattr(builder, 'register_transformers_optimizers')


def test_defer_transformers_import_is_a_no_op_once_mmengine_optim_is_loaded():
    from cen_mm.compat import defer_transformers_import
    assert 'mmengine.optim' in sys.modules
    before = dict(sys.modules)
    assert defer_transformers_import() is False
    assert 'transformers' not in set(sys.modules) - set(before)


# ---- optim wrapper ----------------------------------------------------------------
def _sgd_wrapper(**kwargs):
    torch.manual_seed(0)
    model = nn.Linear(3, 2).double()
    return model, OptimWrapper(torch.optim.SGD(model.parameters(), lr=0.1), **kwargs)


def test_run_before_clip_grad_acts_before_clipping_and_is_removable():
    model, wrapper = _sgd_wrapper(clip_grad=dict(max_norm=0.5))
    w0 = model.weight.detach().clone()
    extra = torch.full_like(model.weight, 3.0)

    def add_extra():
        model.weight.grad.add_(extra)

    run_before_clip_grad(wrapper, add_extra)
    x = torch.arange(6, dtype=torch.float64).reshape(2, 3)
    loss = model(x).sum()
    grads = torch.autograd.grad(loss, list(model.parameters()))
    full = [grads[0] + extra, grads[1]]
    total = torch.sqrt(sum((g**2).sum() for g in full))
    coef = min(1.0, 0.5 / (float(total) + 1e-6))
    assert coef < 1  # clipping is active and includes the extra gradient
    wrapper.update_params(model(x).sum())
    torch.testing.assert_close(model.weight.detach(), w0 - 0.1 * coef * full[0])
    assert restore_clip_grad(wrapper) is True
    assert '_clip_grad' not in wrapper.__dict__
    assert restore_clip_grad(wrapper) is False
    # the class is never patched
    assert OptimWrapper._clip_grad.__qualname__ == 'OptimWrapper._clip_grad'


def test_accumulative_counts():
    assert accumulative_counts(_sgd_wrapper()[1]) == 1
    assert accumulative_counts(_sgd_wrapper(accumulative_counts=3)[1]) == 3


# ---- mmpretrain heads --------------------------------------------------------------
def test_cls_head_helpers_equal_the_heads_own_loss_and_predict():
    from mmpretrain.models.heads import ClsHead
    from mmpretrain.structures import DataSample
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):  # whatever ran before
        head = ClsHead(loss=dict(type='CrossEntropyLoss', loss_weight=1.0))
    torch.manual_seed(0)
    feats = (torch.randn(4, 5), )
    samples = [DataSample().set_gt_label(i % 5) for i in range(4)]
    logits = head(feats)
    expected = head.loss(feats, samples)
    got = cls_head_loss(head, logits, samples)
    assert set(got) == set(expected) == {'loss'}
    torch.testing.assert_close(got['loss'], expected['loss'], rtol=0, atol=0)
    preds = cls_head_predictions(head, logits)
    ref = head.predict(feats)
    for p, r in zip(preds, ref):
        assert torch.equal(p.pred_score, r.pred_score)
        assert torch.equal(p.pred_label, r.pred_label)


# ---- mmengine runner --------------------------------------------------------------
def test_pending_auto_resume_reads_the_runners_request(tmp_path):
    from mmengine.model import BaseModel
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    class Toy(BaseModel):

        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(torch.zeros(1))

        def forward(self, inputs=None, data_samples=None, mode='tensor'):
            return self.w

    def runner(**kwargs):
        return Runner(model=Toy(), work_dir=str(tmp_path), **kwargs)

    # a Runner makes its default scope ('mmengine') current: restore the previous one
    # so that later tests keep building from the scope they expect
    scopes = DefaultScope._instance_dict.copy()
    try:
        assert pending_auto_resume(runner(resume=True)) is True
        assert pending_auto_resume(runner(resume=True, load_from='x.pth')) is False
        assert pending_auto_resume(runner(resume=False)) is False
    finally:
        DefaultScope._instance_dict.clear()
        DefaultScope._instance_dict.update(scopes)


# ---- mmagic translation -----------------------------------------------------------
def test_init_translation_model_sets_the_domains_mmagic_reads():
    from mmagic.models.base_models import BaseTranslationModel

    from cen_mm.compat.mmagic_translation import (init_translation_model,
                                                  init_weights_as_base_module)

    class OneGenerator(BaseTranslationModel):

        def __init__(self, **domains):
            init_translation_model(self, data_preprocessor=None, init_cfg=None,
                                   **domains)
            self.generators = nn.Conv2d(2, 3, 1)

    model = OneGenerator(default_domain='depth', reachable_domains=['depth', 'normal'],
                         related_domains=['rgb', 'depth', 'normal'])
    assert model.is_domain_reachable('normal') and not model.is_domain_reachable('rgb')
    assert model._default_domain == 'depth'
    # mmagic's per-domain loop (generators[domain]): why the helper exists
    with pytest.raises(TypeError, match='not subscriptable'):
        BaseTranslationModel.init_weights(model)
    init_weights_as_base_module(model)  # BaseModule recursion works
    with pytest.raises(ValueError, match="'rgb' is not one of the reachable"):
        OneGenerator(default_domain='rgb', reachable_domains=['depth'],
                     related_domains=['rgb', 'depth'])


# ---- process exit -----------------------------------------------------------------
def test_exit_skipping_gloo_teardown_flushes_logs_and_exits_zero(tmp_path):
    log = tmp_path / 'run.log'
    module = osp.join(ROOT, 'cen_mm', 'compat', 'process_exit.py')
    code = (
        'import importlib.util, logging, sys\n'
        f'spec = importlib.util.spec_from_file_location("process_exit", {module!r})\n'
        'mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)\n'
        f'handler = logging.FileHandler({str(log)!r})\n'
        'logger = logging.getLogger("t"); logger.addHandler(handler)\n'
        'logger.warning("all work written")\n'
        'sys.stdout.write("buffered")\n'
        'mod.exit_skipping_gloo_teardown()\n'
        'print("not reached")\n')
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == 'buffered'
    assert log.read_text() == 'all work written\n'


# ---- package hygiene --------------------------------------------------------------
def test_modules_imported_by_compat_init_use_only_the_standard_library():
    import ast
    stdlib = set(sys.stdlib_module_names)
    for name in ('checkpoint_schemes', 'lazy_transformers', 'process_exit'):
        path = osp.join(ROOT, 'cen_mm', 'compat', f'{name}.py')
        tree = ast.parse(open(path).read())
        for node in tree.body:  # module level only (function bodies import lazily)
            if isinstance(node, ast.Import):
                tops = [a.name.split('.')[0] for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                tops = [(node.module or '').split('.')[0]]
            else:
                continue
            assert set(tops) <= stdlib, f'{name}.py imports {tops} at import time'

