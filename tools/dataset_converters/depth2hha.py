"""Compute HHA (Gupta et al., ECCV 2014) for a converted RGB-D dataset.

    python tools/dataset_converters/depth2hha.py data/nyudv2 [--nproc 4]
    python tools/dataset_converters/depth2hha.py data/sunrgbd --nproc 4
    python tools/dataset_converters/depth2hha.py DATA --intrinsics FX FY CX CY

Writes ``DATA/hha/{train,test}/NAME.png`` (8-bit; R, G, B = horizontal disparity,
height above ground in cm, normal angle to gravity + 38) and adds ``hha`` to
``meta.json``; train on it with ``configs/_base_/datasets/nyud_rgbd_hha.py`` /
``sunrgbd_rgbd_hha.py``. Intrinsics: ``--intrinsics``, else ``camera.json`` (written by
``sunrgbd_official.py``), else built in (NYUDv2 Kinect; SUN RGB-D per sensor).
Restartable; ``hha/`` appears only when complete. See docs/data.md.
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))
from cen_mm.seg.datasets.conversion import ConversionError  # noqa: E402
from cen_mm.seg.datasets.official.hha_folder import write_hha_folder  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='Compute HHA (Gupta et al. ECCV 2014) for a converted RGB-D dataset: '
        'writes DATA_ROOT/hha/{train,test}/NAME.png. Restartable.')
    parser.add_argument('data_root', help='a converted dataset (has meta.json, depth/)')
    parser.add_argument('--dataset', choices=('nyudv2', 'sunrgbd'),
                        help='built-in intrinsics to use (default: meta.json dataset)')
    parser.add_argument('--intrinsics', type=float, nargs=4,
                        metavar=('FX', 'FY', 'CX', 'CY'),
                        help='one pinhole camera for every frame (pixels)')
    parser.add_argument('--radius', type=int, default=3,
                        help='normal-fitting window half size in pixels (default 3)')
    parser.add_argument('--nproc', type=int, default=1, help='worker processes')
    parser.add_argument('--overwrite', action='store_true',
                        help='recompute an existing hha/ folder')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        info = write_hha_folder(args.data_root, args.dataset, args.intrinsics,
                                args.radius, args.nproc, args.overwrite)
    except ConversionError as err:
        print(f'error: {err}', file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print('interrupted: rerun the same command to resume', file=sys.stderr)
        return 130
    per = info['seconds_per_frame']
    print(f"HHA written for {info['frames']} frames ({info['computed']} computed now"
          + (f', {per:.3f} s per frame' if per is not None else '') +
          f"; intrinsics: {info['intrinsics']}) -> {osp.join(args.data_root, 'hha')}")
    return 0


if __name__ == '__main__':
    sys.exit(main())
