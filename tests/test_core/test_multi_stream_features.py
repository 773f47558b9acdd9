"""MultiStreamFeatures: the stacked levels of M streams (× T tasks), explicit views."""
import pytest
import torch

from cen_mm.core import MultiStreamFeatures, as_multi_stream, stream_grid

M, N = 3, 2


def _levels(rows=M * N):
    g = torch.Generator().manual_seed(0)
    return [torch.randn(rows, 4, 8, 8, generator=g),
            torch.randn(rows, 6, 4, 4, generator=g)]


def test_stacked_is_the_given_tensors_and_streams_are_their_rows():
    levels = _levels()
    feats = MultiStreamFeatures(levels, M)
    assert feats.stacked[0] is levels[0] and feats.stacked[1] is levels[1]
    assert (feats.num_streams, feats.num_tasks, feats.batch_size,
            feats.num_levels) == (M, 1, N, 2)
    assert len(feats) == M
    for m in range(M):
        stream = feats.stream(m)
        assert isinstance(stream, tuple) and len(stream) == 2
        for lvl in range(2):
            assert torch.equal(stream[lvl], levels[lvl][m * N:(m + 1) * N])
            # a view, not a copy
            assert stream[lvl].data_ptr() == levels[lvl][m * N].data_ptr()
        assert all(torch.equal(a, b) for a, b in zip(feats[m], stream))
    assert all(torch.equal(a, b) for a, b in zip(feats[-1], feats.stream(M - 1)))
    assert len(feats.streams()) == M and len(list(feats)) == M


def test_select_returns_the_stack_itself_for_all_streams_else_a_concatenation():
    levels = _levels()
    feats = MultiStreamFeatures(levels, M)
    assert feats.select(range(M)) is feats.stacked
    sub = feats.select([2, 0])
    for lvl in range(2):
        torch.testing.assert_close(
            sub[lvl], torch.cat([levels[lvl][2 * N:3 * N], levels[lvl][:N]]))


def test_map_keeps_the_stream_layout():
    feats = MultiStreamFeatures(_levels(), M)
    doubled = feats.map(lambda lvl, t: t * (lvl + 2))
    assert isinstance(doubled, MultiStreamFeatures) and doubled.num_streams == M
    torch.testing.assert_close(doubled.stream(1)[1], feats.stream(1)[1] * 3)


def test_task_grid_is_task_major():
    T = 2
    x = torch.arange(T * M * N * 5, dtype=torch.float).view(T * M * N, 5)
    feats = MultiStreamFeatures(x, M, num_tasks=T)
    assert len(feats) == T * M
    grid = feats.grid()
    assert grid.shape == (T, M, N, 5) and grid.data_ptr() == x.data_ptr()
    for t in range(T):
        for m in range(M):
            rows = x[(t * M + m) * N:(t * M + m + 1) * N]
            assert torch.equal(feats.stream(m, task=t)[0], rows)
            assert torch.equal(grid[t, m], rows)
            assert torch.equal(feats[t * M + m][0], rows)
    torch.testing.assert_close(stream_grid(x, M, T), grid)


def test_immutable_and_clear_errors():
    feats = MultiStreamFeatures(_levels(), M)
    with pytest.raises(AttributeError, match='immutable'):
        feats.stacked = ()
    with pytest.raises(ValueError, match='not a positive multiple of 3'):
        MultiStreamFeatures([torch.zeros(5, 1, 1, 1)], M)
    with pytest.raises(ValueError, match='different batch sizes'):
        MultiStreamFeatures([torch.zeros(6, 1), torch.zeros(12, 1)], M)
    with pytest.raises(IndexError, match='stream 3'):
        feats.stream(3)
    with pytest.raises(IndexError):
        feats[M]
    with pytest.raises(TypeError, match='expected MultiStreamFeatures'):
        as_multi_stream([(torch.zeros(2, 1), )] * 3, what='my neck')
    with pytest.raises(TypeError, match='my neck: expected 2 streams, got 3'):
        as_multi_stream(feats, 2, what='my neck')
    assert as_multi_stream(feats, M) is feats


def test_gradients_of_stream_views_reach_the_stack():
    levels = [t.requires_grad_() for t in _levels()]
    feats = MultiStreamFeatures(levels, M)
    (feats.stream(1)[0].sum() * 2).backward()
    expected = torch.zeros_like(levels[0])
    expected[N:2 * N] = 2
    torch.testing.assert_close(levels[0].grad, expected)
