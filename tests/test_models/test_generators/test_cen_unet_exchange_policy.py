"""CENUnetGenerator / StreamGridNorm forward ``exchange_policy`` to every exchanging
norm (issue #18 contract): the encoder's exchanging INs get the policy, the others none,
and a fixed-ratio generator differs from the threshold-rule one in its outputs."""
import torch

from cen_mm.core import ModalityNorm, iter_exchanging_norms
from cen_mm.core.exchange_policies import FixedRatioExchange
from cen_mm.models.generators import CENUnetGenerator
from cen_mm.models.generators.stream_grid_norm import StreamGridNorm


def test_generator_forwards_exchange_policy():
    torch.manual_seed(0)
    kwargs = dict(num_inputs=2, num_down=4, base_channels=4)
    gen = CENUnetGenerator(3, 3, exchange_policy=dict(type='fixed_ratio', ratio=0.5),
                           **kwargs)
    layers = [m for _, m in iter_exchanging_norms(gen)]
    assert layers and all(isinstance(m.exchange_policy, FixedRatioExchange)
                          for m in layers)
    # 8 channels (second level), sub-parts of 4 -> 2 per stream, the first of each
    mask = next(m for m in layers if m.num_features == 8).exchange_mask()
    assert mask.nonzero().tolist() == [[0, 0], [0, 1], [1, 4], [1, 5]]
    default = CENUnetGenerator(3, 3, **kwargs)
    default.load_state_dict(gen.state_dict())
    x = torch.randn(4, 3, 16, 16)  # 2 inputs x N=2
    gen.eval()
    default.eval()
    with torch.no_grad():
        out, ref = gen(x)['ensemble'], default(x)['ensemble']
    assert out.shape == ref.shape == (1, 2, 3, 16, 16)
    assert not torch.allclose(out, ref)  # γ = 1: the threshold rule exchanges nothing


def test_stream_grid_norm_policy_only_on_exchanging_groups():
    norm = StreamGridNorm(8, 1, 2, private='stream', exchange='inputs',
                          exchange_policy=dict(type='fixed_ratio', ratio=0.25))
    (group, ) = [m for m in norm.modules() if isinstance(m, ModalityNorm)]
    assert group.exchange and isinstance(group.exchange_policy, FixedRatioExchange)
    assert group.exchange_mask().sum(dim=1).tolist() == [1, 1]
    plain = StreamGridNorm(8, 1, 2, private='stream', exchange=None)
    assert all(getattr(m, 'exchange_policy', None) is None for m in plain.modules())
