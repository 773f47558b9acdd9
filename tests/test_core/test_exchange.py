"""Channel exchange against a literal per-channel reference (values and gradients)."""
import itertools

import pytest
import torch

from cen_mm.core import channel_exchange, exchange_mask, subpart_bounds, subpart_mask


def reference_exchange(xs, gammas, threshold, owner=None):
    """Literal Eq. (CEN): loop over streams and channels; replaced values detached."""
    M, C = len(xs), xs[0].shape[1]
    outs = []
    for m in range(M):
        channels = []
        for c in range(C):
            replace = abs(gammas[m][c]) < threshold and (owner is None or owner[m][c])
            if replace:
                others = [xs[k][:, c] for k in range(M) if k != m]
                channels.append(sum(others) / (M - 1))
            else:
                channels.append(xs[m][:, c])
        outs.append(torch.stack(channels, dim=1))
    return outs


@pytest.mark.parametrize('M', [2, 3, 4])
@pytest.mark.parametrize('mode', ['subpart', 'all'])
def test_exchange_values_and_gradients(M, mode):
    torch.manual_seed(M)
    N, C, H, W = 2, 8, 3, 4
    theta = 0.1
    gamma = torch.rand(M, C)
    gamma[torch.rand(M, C) < 0.4] = 0.05 * torch.randn(())  # some below θ
    owner = subpart_mask(C, M) if mode == 'subpart' else None
    xs = [torch.randn(N, C, H, W, requires_grad=True) for _ in range(M)]
    upstream = [torch.randn(N, C, H, W) for _ in range(M)]

    ref = reference_exchange(xs, gamma.tolist(), theta,
                             owner.tolist() if owner is not None else None)
    ref_grads = torch.autograd.grad(sum((r * u).sum() for r, u in zip(ref, upstream)), xs)

    stacked = torch.stack(xs)  # (M, N, C, H, W), not a leaf: in-place allowed
    mask = exchange_mask(gamma, theta, owner)
    out = channel_exchange(stacked.clone(), mask)
    grads = torch.autograd.grad((out * torch.stack(upstream)).sum(), xs)

    assert mask.any(), 'test must exchange something'
    for m in range(M):
        torch.testing.assert_close(out[m], ref[m])
        torch.testing.assert_close(grads[m], ref_grads[m])


def test_replaced_value_gets_no_gradient():
    x0 = torch.randn(1, 2, 2, 2, requires_grad=True)
    x1 = torch.randn(1, 2, 2, 2, requires_grad=True)
    gamma = torch.tensor([[0.0, 1.0], [1.0, 1.0]])  # stream 0 gives up channel 0
    out = channel_exchange(torch.stack([x0, x1]), exchange_mask(gamma, 0.02))
    out[0].sum().backward()
    assert torch.equal(x0.grad[:, 0], torch.zeros_like(x0.grad[:, 0]))
    assert torch.equal(x0.grad[:, 1], torch.ones_like(x0.grad[:, 1]))
    assert torch.equal(x1.grad[:, 0], torch.ones_like(x1.grad[:, 0]))  # replacing value
    assert torch.equal(x1.grad[:, 1], torch.zeros_like(x1.grad[:, 1]))


def test_subpart_mode_only_exchanges_own_subpart():
    C, M = 6, 2
    gamma = torch.zeros(M, C)  # everything below θ
    mask = exchange_mask(gamma, 0.02, subpart_mask(C, M))
    assert mask.tolist() == [[True] * 3 + [False] * 3, [False] * 3 + [True] * 3]
    assert exchange_mask(gamma, 0.02).all()  # 'all' mode (official code)


def test_no_exchange_returns_input_unchanged():
    x = torch.randn(2, 1, 4, 3)
    assert channel_exchange(x, torch.zeros(2, 4, dtype=torch.bool)) is x


@pytest.mark.parametrize('C,M', [(8, 2), (10, 3), (7, 4), (64, 3)])
def test_subparts_partition_channels(C, M):
    bounds = subpart_bounds(C, M)
    mask = subpart_mask(C, M)
    assert mask.sum(0).tolist() == [1] * C  # every channel owned exactly once
    sizes = [bounds[m + 1] - bounds[m] for m in range(M)]
    assert max(sizes) - min(sizes) <= 1 and min(sizes) >= 1
    if C % M == 0:
        assert all(mask[m, m * C // M:(m + 1) * C // M].all() for m in range(M))
    for m, n in itertools.combinations(range(M), 2):
        assert not (mask[m] & mask[n]).any()


def test_bad_inputs_are_explained():
    with pytest.raises(ValueError, match='at least 2 streams'):
        channel_exchange(torch.randn(1, 1, 3, 2), torch.zeros(1, 3, dtype=torch.bool))
    with pytest.raises(ValueError, match='mask must have shape'):
        channel_exchange(torch.randn(2, 1, 3, 2), torch.zeros(2, 4, dtype=torch.bool))
    with pytest.raises(ValueError, match='non-empty'):
        subpart_bounds(2, 3)
