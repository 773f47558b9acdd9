"""Segment your own RGB-D images with a trained (or converted official) CEN model.

    python demo/rgbd_demo.py RGB DEPTH CONFIG CHECKPOINT [--out-file F] [--show-streams]
        [--show-exchange] [--depth-encoding ENC] [--device cpu] [--opacity 0.8]
        [--pred-dir DIR] [--cfg-options KEY=VALUE ...]

RGB and DEPTH are files (one picture is written to ``--out-file``, default
``rgbd_demo.png``) or folders (files paired by name; one picture per pair is written
into the folder ``--out-file``, default ``rgbd_demo/``). The picture shows RGB, depth
(colour-mapped, near = red, holes black), the ensemble prediction and, with
``--show-streams``, every stream's prediction; ``--show-exchange`` adds the fraction
of exchanged channels per layer and stream.

``--depth-encoding`` says how the depth PNG's integers map to metres: a number (metres
per unit, e.g. ``1/5000`` for NYUDv2 PNGs, ``0.001`` for millimetres), ``mm``, or
``sunrgbd`` (SUN RGB-D's bit-rotated millimetres). Default: the config's.
"""
import argparse
import os.path as osp
import sys
from fractions import Fraction

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))


def parse_depth_encoding(text):
    """'sunrgbd' | 'mm' | a positive number or fraction ('1/5000') -> encoding dict."""
    if text is None:
        return None
    if text.lower() == 'sunrgbd':
        return dict(type='sunrgbd')
    if text.lower() == 'mm':
        return dict(type='linear', scale=1 / 1000)
    try:
        scale = float(Fraction(text))
    except (ValueError, ZeroDivisionError):
        raise argparse.ArgumentTypeError(
            f"--depth-encoding: expected 'sunrgbd', 'mm' or metres per stored unit "
            f"such as 1/5000 or 0.001, got {text!r}") from None
    if scale <= 0:
        raise argparse.ArgumentTypeError(
            f'--depth-encoding: the scale must be positive, got {text!r}')
    return dict(type='linear', scale=scale)


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='CEN RGB-D segmentation of your own images (cen_mm)')
    parser.add_argument('rgb', help='RGB image file, or a folder of them')
    parser.add_argument('depth', help='depth PNG file (16-bit), or a folder of them')
    parser.add_argument('config', help='model config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--out-file', help='picture to write (a folder for folder '
                        'inputs); default rgbd_demo.png / rgbd_demo/')
    parser.add_argument('--show-streams', action='store_true',
                        help="also draw every stream's own prediction")
    parser.add_argument('--show-exchange', action='store_true',
                        help='add the exchanged-channel fraction per layer')
    parser.add_argument('--depth-encoding', type=parse_depth_encoding, default=None,
                        help="'sunrgbd', 'mm' or metres per unit (e.g. 1/5000); "
                        "default: the config's")
    parser.add_argument('--pred-dir', help='also write the label maps (ensemble: '
                        'NAME.png, streams: s{m}/NAME.png) into this folder')
    parser.add_argument('--device', default='cpu', help='e.g. cpu or cuda:0')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, metavar='KEY=VALUE',
                        help='override config settings, e.g. '
                        'model.backbone.exchange_mode=all for converted official '
                        'checkpoints')
    parser.add_argument('--opacity', type=float, default=0.6,
                        help='opacity of the label colours over RGB (0..1)')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint'),
                       (args.rgb, 'RGB input'), (args.depth, 'depth input')):
        if not osp.exists(path):
            sys.exit(f'{what} {path!r} not found')
    folders = osp.isdir(args.rgb), osp.isdir(args.depth)
    if folders[0] != folders[1]:
        sys.exit('RGB and DEPTH must both be files or both be folders')
    from mmengine.config import Config

    from cen_mm.seg.apis import RGBDSegInferencer
    from cen_mm.seg.visualization import write_image

    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    inferencer = RGBDSegInferencer(cfg, args.checkpoint,
                                   depth_encoding=args.depth_encoding,
                                   device=args.device)
    names = inferencer.modality_names
    if len(names) != 2:
        sys.exit(f'this demo takes RGB + one depth/HHA image; the model needs '
                 f'{len(names)} modalities ({", ".join(names)}): use '
                 'cen_mm.seg.apis.RGBDSegInferencer from Python')
    try:
        samples = inferencer.list_samples({names[0]: args.rgb, names[1]: args.depth})
        out = args.out_file or ('rgbd_demo' if folders[0] else 'rgbd_demo.png')
        for sample in samples:
            result = inferencer(tuple(sample['inputs']), return_vis=True,
                                opacity=args.opacity, draw_streams=args.show_streams,
                                show_exchange=args.show_exchange,
                                pred_out_dir=args.pred_dir or '')
            out_file = (osp.join(out, sample['sample_name'] + '.png')
                        if folders[0] else out)
            write_image(result['visualization'], out_file)
            print(f'wrote {out_file}')
    except (ValueError, FileNotFoundError) as err:
        sys.exit(f'error: {err}')


if __name__ == '__main__':
    main()
