"""HHA (cen_mm.seg.datasets.hha) against geometric ground truth: depth maps ray-cast
from known planes (floor, wall, ceiling, a tilted board) seen by a pitched camera, so
heights, normal angles, gravity and disparity are known exactly."""
import numpy as np
import pytest
from scipy import ndimage

from cen_mm.seg.datasets.hha import (NYUDV2_INTRINSICS, SUNRGBD_INTRINSICS_BY_SIZE,
                                     CameraIntrinsics, backproject,
                                     compute_hha_channels, depth_to_hha, encode_hha,
                                     estimate_up, intrinsics_for, surface_normals)

W, H = 160, 120  # a quarter of the Kinect frame: fast, same field of view
K = CameraIntrinsics(NYUDV2_INTRINSICS.fx / 4, NYUDV2_INTRINSICS.fy / 4,
                     NYUDV2_INTRINSICS.cx / 4, NYUDV2_INTRINSICS.cy / 4)
CAMERA_HEIGHT = 1.25


def camera_axes(pitch_deg):
    """World up and horizontal forward in camera coordinates (x right, y down, z
    forward) for a camera pitched down by ``pitch_deg``."""
    t = np.deg2rad(pitch_deg)
    return np.array([0, -np.cos(t), -np.sin(t)]), np.array([0, -np.sin(t), np.cos(t)])


def render(planes, intrinsics=K, size=(W, H)):
    """Ray-cast planes ``(normal, offset, keep)`` (points X with normal·X = offset;
    ``keep(X)`` bounds the plane or None) -> depth (H, W) metres, index of the plane hit
    (-1: nothing)."""
    w, h = size
    u = (np.arange(w) - intrinsics.cx) / intrinsics.fx
    v = (np.arange(h) - intrinsics.cy) / intrinsics.fy
    rays = np.stack(np.broadcast_arrays(u[None, :], v[:, None], np.ones((h, w))), -1)
    depth = np.full((h, w), np.inf)
    index = np.full((h, w), -1)
    for k, (normal, offset, keep) in enumerate(planes):
        with np.errstate(divide='ignore', invalid='ignore'):
            t = offset / (rays @ np.asarray(normal, float))
        hit = (t > 0) & (t < depth)
        if keep is not None:
            hit &= keep(t[..., None] * rays)
        depth[hit] = t[hit]
        index[hit] = k
    depth[index < 0] = 0
    return depth, index


def interior(index, k, margin=5):
    """Pixels of plane k at least ``margin`` pixels away from any other surface."""
    return ndimage.binary_erosion(index == k, iterations=margin)


def room(pitch_deg=15.0, board_tilt_deg=None, wall_distance=4.0, ceiling=None):
    """Floor + front wall (+ a bounded board tilted by ``board_tilt_deg`` from
    horizontal, + a ceiling at height ``ceiling``). Returns depth, index, up, forward."""
    up, fwd = camera_axes(pitch_deg)
    planes = [(up, -CAMERA_HEIGHT, None), (fwd, wall_distance, None)]
    if board_tilt_deg is not None:
        a = np.deg2rad(board_tilt_deg)
        normal = np.cos(a) * up - np.sin(a) * fwd  # faces the camera
        foot = -CAMERA_HEIGHT * up + 2.0 * fwd
        planes.append((normal, normal @ foot,
                       lambda X: (np.abs(X[..., 0]) < 0.4) & (X @ fwd < 3.0)))
    if ceiling is not None:
        planes.append((up, ceiling - CAMERA_HEIGHT, None))
    depth, index = render(planes)
    return depth, index, up, fwd


def true_height(depth, up):
    return backproject(depth, K) @ up + CAMERA_HEIGHT


def angle_between(a, b):
    return np.degrees(np.arccos(np.clip(np.dot(a, b), -1, 1)))


def test_backproject_pinhole():
    depth = np.full((H, W), 2.0)
    pts = backproject(depth, K)
    assert pts.shape == (H, W, 3)
    np.testing.assert_allclose(pts[10, 20], [(20 - K.cx) * 2 / K.fx,
                                             (10 - K.cy) * 2 / K.fy, 2.0])


def test_floor_and_wall():
    depth, index, up, _ = room(pitch_deg=15)
    ch = compute_hha_channels(depth, K)
    assert angle_between(ch.up, up) < 0.1
    floor, wall = interior(index, 0), interior(index, 1)
    assert floor.sum() > 1000 and wall.sum() > 1000
    np.testing.assert_allclose(ch.angle[floor], 0, atol=0.2)
    np.testing.assert_allclose(ch.angle[wall], 90, atol=0.2)
    valid = depth > 0
    np.testing.assert_allclose(ch.height[valid], true_height(depth, up)[valid], atol=0.01)
    np.testing.assert_allclose(ch.height[floor], 0, atol=0.01)
    np.testing.assert_allclose(ch.disparity, 310 / np.maximum(depth, 1.0), rtol=1e-5)

    hha = encode_hha(ch)
    assert hha.dtype == np.uint8 and hha.shape == (H, W, 3)
    assert np.all(hha[floor, 2] == 38) and np.all(hha[wall, 2] == 128)
    expected_cm = np.clip(np.rint(true_height(depth, up) * 100), 0, 255)
    assert np.abs(hha[..., 1].astype(int) - expected_cm)[valid].max() <= 1
    np.testing.assert_array_equal(
        hha[..., 0], np.clip(np.rint(310 / np.maximum(depth, 1.0)), 0, 255))
    np.testing.assert_array_equal(depth_to_hha(depth, K), hha)


def test_tilted_board_with_estimated_and_given_gravity():
    depth, index, up, _ = room(pitch_deg=20, board_tilt_deg=30)
    board = interior(index, 2)
    assert board.sum() > 300
    estimated = compute_hha_channels(depth, K)
    assert angle_between(estimated.up, up) < 0.1
    np.testing.assert_allclose(estimated.angle[board], 30, atol=0.2)
    given = compute_hha_channels(depth, K, up=up)
    np.testing.assert_allclose(given.up, up)
    np.testing.assert_allclose(given.angle[board], 30, atol=0.05)
    np.testing.assert_allclose(given.angle[interior(index, 0)], 0, atol=0.05)
    valid = depth > 0
    np.testing.assert_allclose(given.height[valid], true_height(depth, up)[valid],
                               atol=1e-3)


def test_ceiling_faces_down_and_level_camera():
    depth, index, up, _ = room(pitch_deg=0, ceiling=2.6)
    ch = compute_hha_channels(depth, K)
    ceiling = interior(index, 2)
    assert ceiling.sum() > 300
    np.testing.assert_allclose(ch.angle[ceiling], 180, atol=0.2)
    np.testing.assert_allclose(ch.height[ceiling], 2.6, atol=0.01)
    assert np.all(encode_hha(ch)[ceiling, 2] == 218)


def test_no_floor_in_view_assumes_camera_height():
    # camera looking at a wall 1 m away, lowest visible point 0.5 m below the camera
    up, fwd = camera_axes(0)
    depth, _ = render([(fwd, 1.0, None)])
    lowest = -(backproject(depth, K) @ up).min()
    assert lowest < 0.9
    ch = compute_hha_channels(depth, K, up=up)
    np.testing.assert_allclose(ch.height, backproject(depth, K) @ up + 1.3, atol=1e-5)


def test_holes_filled_or_zero():
    depth, index, up, _ = room(pitch_deg=15)
    floor = interior(index, 0, margin=12)
    rows, cols = np.nonzero(floor)
    r, c = rows[len(rows) // 2], cols[len(cols) // 2]
    holey = depth.copy()
    holey[r - 2:r + 3, c - 2:c + 3] = 0
    filled = compute_hha_channels(holey, K)
    assert angle_between(filled.up, up) < 0.1
    # nearest-depth filling on a floor: height and angle stay close to the truth
    np.testing.assert_allclose(filled.angle[r, c], 0, atol=5)
    assert abs(filled.height[r, c]) < 0.05
    assert not filled.valid[r, c] and filled.valid[r - 3, c]
    kept = compute_hha_channels(holey, K, fill_holes=False)
    hha = encode_hha(kept)
    assert np.all(hha[r - 2:r + 3, c - 2:c + 3] == 0)
    assert np.isnan(kept.angle[r, c])
    np.testing.assert_allclose(kept.angle[interior(index, 1)], 90, atol=0.2)


def test_surface_normals_face_camera_and_mark_sparse_windows():
    depth, index, up, fwd = room(pitch_deg=15)
    valid = depth > 0
    valid[40:60, 40:60] = False
    normals, curvature = surface_normals(backproject(depth, K), valid, radius=3)
    wall = interior(index, 1) & valid
    np.testing.assert_allclose(normals[wall], np.broadcast_to(-fwd, normals[wall].shape),
                               atol=1e-6)
    assert np.all(curvature[wall] < 1e-9)
    edge = (index == 0) & ndimage.binary_dilation(index == 1, iterations=2) & valid
    assert edge.any() and np.all(curvature[edge] > 1e-4)  # windows straddle floor+wall
    assert np.isnan(normals[50, 50]).all() and np.isnan(curvature[50, 50])


def test_estimate_up_from_normals_only():
    up = np.array([0.1, -0.95, -0.2])
    up /= np.linalg.norm(up)
    side = np.cross(up, [1.0, 0, 0])
    side /= np.linalg.norm(side)
    normals = np.concatenate([np.tile(up, (500, 1)), np.tile(side, (400, 1)),
                              np.full((50, 3), np.nan)])
    np.testing.assert_allclose(estimate_up(normals), up, atol=1e-9)


def test_bad_inputs():
    with pytest.raises(ValueError, match='no valid'):
        compute_hha_channels(np.zeros((8, 8)), K)
    with pytest.raises(ValueError, match=r'\(H, W\)'):
        compute_hha_channels(np.ones((8, 8, 1)), K)


def test_builtin_intrinsics():
    k, note = intrinsics_for('nyudv2', (640, 480))
    assert k == NYUDV2_INTRINSICS and 'Kinect' in note
    k, _ = intrinsics_for('nyudv2', (625, 468))  # light-weight RefineNet border crop
    assert (k.cx, k.cy) == (NYUDV2_INTRINSICS.cx - 7, NYUDV2_INTRINSICS.cy - 6)
    assert intrinsics_for('sunrgbd', (730, 530))[0] == SUNRGBD_INTRINSICS_BY_SIZE[(730,
                                                                                  530)]
    with pytest.raises(ValueError, match='--intrinsics'):
        intrinsics_for('sunrgbd', (100, 100))
    with pytest.raises(ValueError, match='--intrinsics'):
        intrinsics_for('nyudv2', (800, 600))
    with pytest.raises(ValueError, match='known: nyudv2'):
        intrinsics_for('other', (640, 480))
