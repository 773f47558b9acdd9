"""``compile`` (mmengine's torch.compile switch) and CENRunner's optimizer: mmengine's
optimizer constructor leaves the param groups ConfigDicts when ``paramwise_cfg`` is
set, and dynamo crashed on them inside ``optimizer.step`` ("'UserDefinedDictVariable'
object has no attribute 'items'", SGD and AdamW). CENRunner hands the optimizer plain
dicts with the same keys and values."""
import pytest
import torch
import torch.nn as nn
from mmengine.config import ConfigDict
from mmengine.optim import build_optim_wrapper

from cen_mm.engine.runner.cen_runner import CENRunner, plain_param_groups

OPTIM_CFG = dict(type='OptimWrapper',
                 optimizer=dict(type='SGD', lr=1e-2, momentum=0.9,
                                weight_decay=1e-4),
                 paramwise_cfg=dict(custom_keys={'1.': dict(lr_mult=10.0,
                                                            decay_mult=0.0)}))


def _wrapper():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4))
    return model, build_optim_wrapper(model, ConfigDict(OPTIM_CFG))


def _compiled_step(model, wrapper):
    def step(x):
        wrapper.update_params(model(x).square().mean())

    return torch.compile(step, backend='eager')


@pytest.mark.e2e
def test_mmengine_param_groups_crash_dynamo_without_the_fix():
    model, wrapper = _wrapper()
    assert all(isinstance(g, ConfigDict) for g in wrapper.optimizer.param_groups)
    torch._dynamo.reset()
    with pytest.raises(Exception, match='UserDefinedDictVariable'):
        _compiled_step(model, wrapper)(torch.randn(5, 3))
    torch._dynamo.reset()


@pytest.mark.e2e
def test_plain_param_groups_compile_and_step_like_eager():
    (model, wrapper), (ref_model, ref_wrapper) = _wrapper(), _wrapper()
    before = [dict(g) for g in wrapper.optimizer.param_groups]
    assert plain_param_groups(wrapper) is wrapper
    groups = wrapper.optimizer.param_groups
    assert all(type(g) is dict for g in groups) and groups == before
    assert {g['lr'] for g in groups} == {1e-2, 1e-1}  # paramwise lr_mult kept
    torch._dynamo.reset()
    step = _compiled_step(model, wrapper)
    gen = torch.Generator().manual_seed(1)
    for _ in range(2):
        x = torch.randn(5, 3, generator=gen)
        step(x)
        ref_wrapper.update_params(ref_model(x).square().mean())
    torch._dynamo.reset()
    for p, q in zip(model.parameters(), ref_model.parameters()):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)
    assert not torch.equal(next(model.parameters()), _wrapper()[0][0].weight)


def test_cen_runner_builds_plain_param_groups():
    assert CENRunner.build_optim_wrapper is not CENRunner.__mro__[1].build_optim_wrapper
