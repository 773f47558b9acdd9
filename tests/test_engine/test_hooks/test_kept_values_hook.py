"""KeptValuesHook: after training with mmengine's EMAHook (which swaps weights through
``.data``, without a ``_version`` bump), the model predicts with its own weights, not
with values kept from the EMA weights during the last validation."""
import torch

from cen_mm.core import ModalityNorm
from cen_mm.engine.runner import with_safety_hooks
from tests.fixtures.cen_hook_toys import ToyCENModel, make_runner


def _predict_like_a_fresh_model(model):
    """(output of ``model``, output of a new model with the same weights), at the
    validation's batch size, so that a kept plan would be reused."""
    x = torch.randn(2, 2, 4, 4, generator=torch.Generator().manual_seed(1))
    fresh = ToyCENModel()
    fresh.load_state_dict(model.state_dict())
    fresh.eval()
    with torch.no_grad():
        return model(x), fresh(x)


def test_prediction_after_training_with_ema_uses_the_trained_weights(tmp_path):
    runner = make_runner(tmp_path, [dict(type='EMAHook', momentum=0.5),
                                    dict(type='KeptValuesHook')],
                         max_iters=4, val_interval=2)
    model = runner.train()
    assert not model.training  # the last validation left it in eval mode
    assert any(isinstance(m, ModalityNorm) for m in model.modules())
    got, want = _predict_like_a_fresh_model(model)
    assert torch.equal(got, want)
    # and validation again (EMA weights swapped in and out once more)
    metrics = runner.val()
    assert torch.isfinite(torch.tensor(metrics['mse']))
    got, want = _predict_like_a_fresh_model(model)
    assert torch.equal(got, want)


def test_cen_runner_adds_it_by_default():
    hooks = with_safety_hooks(dict(logger=dict(type='LoggerHook')))
    assert hooks['kept_values'] == dict(type='KeptValuesHook')
    assert with_safety_hooks(dict(kept_values=None))['kept_values'] is None
