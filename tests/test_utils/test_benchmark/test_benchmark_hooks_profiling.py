"""cen_mm.utils.benchmark.hooks_cost / .profiling / .comparison on a tiny CEN backbone:
the hook costs cover every exchanging layer, the profiled split adds up, and the
comparison rows carry the measured exchanged fraction and memory."""
import collections

import pytest
import torch
from mmengine.registry import DefaultScope

from cen_mm.core import iter_exchanging_norms
from cen_mm.utils.benchmark.comparison import compare_pair
from cen_mm.utils.benchmark.hooks_cost import measure_hook_costs
from cen_mm.utils.benchmark.model_pair import ModelPair
from cen_mm.utils.benchmark.profiling import (overhead_estimate, profile_self_times,
                                              split_conv_time)

CPU = torch.device('cpu')


@pytest.fixture
def pair():
    import cen_mm  # noqa: F401
    with DefaultScope.overwrite_default_scope('mmseg'):
        yield ModelPair('tiny', dict(type='CENResNet', depth=18, in_channels=(3, 1),
                                     base_channels=8, stem_channels=8, norm_eval=True,
                                     norm_cfg=dict(type='BN', requires_grad=True),
                                     exchange=True), True, None, batch=1, size=32,
                        device=CPU, seed=0)


def test_hook_costs_cover_every_exchanging_layer(pair):
    cost = measure_hook_costs(pair, exchange_frac=0.5, reps=2, seed=0, device=CPU)
    assert cost['num_layers'] == len(list(iter_exchanging_norms(pair.cen)))
    assert cost['stats_interval'] >= 1
    for key in ('penalty', 'stats', 'record'):
        assert cost[key] > 0, key
    assert len(cost['step_with_hook']) == len(cost['step_without_hook']) == 2
    # the pre-hook is detached again: no gradient left behind, nothing attached
    assert all(p.grad is None for p in pair.cen.parameters())


def test_split_and_overhead_of_profiled_times(pair):
    per_op = collections.Counter({'aten::convolution': 6.0, 'aten::mm': 2.0,
                                  'aten::add_': 1.0, 'aten::cat': 1.0})
    assert split_conv_time(per_op) == (8.0, 2.0)
    floor = {'aten::conv2d': 8.0, 'aten::add_': 2.0}
    assert overhead_estimate(per_op, floor) == pytest.approx(0.0)
    assert overhead_estimate({'aten::conv2d': 8.0, 'aten::cat': 3.0}, floor) == \
        pytest.approx(0.1)
    pair.set_mode('infer')
    totals = profile_self_times(dict(cen=pair.infer_step('cen'),
                                     floor=pair.infer_step('floor')), 1, CPU)
    for key in ('cen', 'floor'):
        conv, other = split_conv_time(totals[key])
        assert conv > 0 and other > 0, key
    assert any('conv' in op for op in totals['cen'])


def test_comparison_rows(pair):
    rows = list(compare_pair(pair, [0.0, 0.5], ['infer'], warmup=0, iters=1, seed=0,
                             device=CPU, memory=True))
    assert [(r['sub_frac'], r['phase']) for r in rows] == [(0.0, 'infer'),
                                                           (0.5, 'infer')]
    assert rows[0]['frac'] == 0.0 and 0 < rows[1]['frac'] < 0.5
    for row in rows:
        assert row['wall']['cen'] > 0 and row['cpu']['floor'] >= 0
        assert row['cen_step_mem'] > 0 and row['floor_step_mem'] > 0
        # CEN's only extra static memory at inference: M-1 more norm layers
        assert row['cen_static_mem'] > row['floor_static_mem']
    no_memory = next(compare_pair(pair, [0.0], ['infer'], 0, 1, 0, CPU, memory=False))
    assert 'cen_step_mem' not in no_memory
