"""StreamFeatures / stacked_levels: shared consumers get the backbone's stacked levels
without a copy, and the same values and gradients as concatenating the views."""
import torch

from cen_mm.core import StreamFeatures, stacked_levels


def _levels(M=3, N=2, requires_grad=False):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(M * N, c, s, s, generator=g, requires_grad=requires_grad)
            for c, s in ((4, 6), (8, 3))]


def test_is_the_list_of_per_stream_views():
    M, N = 3, 2
    levels = _levels(M, N)
    feats = StreamFeatures(levels, M)
    assert isinstance(feats, list) and len(feats) == M
    for m in range(M):
        assert isinstance(feats[m], tuple) and len(feats[m]) == 2
        for lvl, t in enumerate(levels):
            assert torch.equal(feats[m][lvl], t[m * N:(m + 1) * N])
            assert feats[m][lvl].data_ptr() == t[m * N].data_ptr()  # a view


def test_stacked_levels_returns_the_stack_itself_when_intact():
    levels = _levels()
    feats = StreamFeatures(levels, 3)
    out = stacked_levels(feats)
    assert all(a is b for a, b in zip(out, levels))
    assert stacked_levels(feats, [0, 1, 2])[0] is levels[0]


def test_falls_back_to_concatenation():
    M, N = 3, 2
    levels = _levels(M, N)
    feats = StreamFeatures(levels, M)
    # a subset or another order of streams: a new tensor with those streams' rows
    sub = stacked_levels(feats, [2, 0])
    assert sub[0] is not levels[0]
    torch.testing.assert_close(sub[1], torch.cat([levels[1][4:6], levels[1][0:2]]))
    # a list whose items were replaced no longer matches its stack
    feats[1] = tuple(t * 0 for t in feats[1])
    assert not feats.is_intact()
    changed = stacked_levels(feats)
    assert changed[0] is not levels[0]
    assert torch.equal(changed[0][N:2 * N], torch.zeros_like(levels[0][:N]))
    # a plain list of tuples works too
    plain = [tuple(t[m * N:(m + 1) * N] for t in levels) for m in range(M)]
    torch.testing.assert_close(stacked_levels(plain)[0], levels[0])


def test_gradients_match_the_concatenating_path():
    M = 2
    levels = _levels(M, 2, requires_grad=True)
    weights = [torch.randn_like(t) for t in levels]

    def loss(stacked):
        return sum((s * w).sum() for s, w in zip(stacked, weights))

    fast = torch.autograd.grad(loss(stacked_levels(StreamFeatures(levels, M))), levels)
    views = [tuple(t.chunk(M)[m] for t in levels) for m in range(M)]
    slow = torch.autograd.grad(loss(stacked_levels(views)), levels)
    for a, b in zip(fast, slow):
        torch.testing.assert_close(a, b)


def test_rejects_a_batch_that_is_not_a_multiple_of_the_streams():
    import pytest
    with pytest.raises(ValueError, match='level 0 has batch 5'):
        StreamFeatures([torch.zeros(5, 1, 1, 1)], 2)
