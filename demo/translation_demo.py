"""Translate your own images with a trained CEN Pix2Pix (cen_mm, mmagic scope).

    python demo/translation_demo.py CONFIG CHECKPOINT --input DOMAIN=PATH [...]
        [--out-file F] [--out-dir DIR] [--decoding taskonomy|identity] [--device cpu]

One ``--input`` per input domain of the config's tasks (e.g. ``--input rgb=rgb.png
--input edge_occlusion=edges.png``). Writes one picture (inputs, the ensemble output of
every task and every stream's own output) to ``--out-file`` (default
``translation_demo.png``) and, with ``--out-dir``, every output as ``KEY.png``
(``<target>.png`` = ensemble, ``<target>_from_<input>.png`` = stream).

Files are decoded like the config's loader: Taskonomy PNGs (16-bit depth and edges,
log depth) for the Taskonomy configs, 8-bit images as they are for the procedural demo
config; ``--decoding`` overrides that. No mmagic ``apis`` import (they need
``controlnet_aux``).
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))


def parse_input(text):
    domain, sep, path = text.partition('=')
    if not sep or not domain or not path:
        raise argparse.ArgumentTypeError(
            f'--input expects DOMAIN=PATH (e.g. rgb=rgb.png), got {text!r}')
    return domain, path


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description='CEN Pix2Pix translation of your own images (cen_mm)')
    parser.add_argument('config', help='CENPix2Pix config file')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--input', dest='inputs', type=parse_input, action='append',
                        required=True, metavar='DOMAIN=PATH',
                        help='an input image per input domain')
    parser.add_argument('--out-file', default='translation_demo.png',
                        help='picture with inputs and outputs')
    parser.add_argument('--out-dir', help='also write every output as KEY.png here')
    parser.add_argument('--decoding', choices=['taskonomy', 'identity'],
                        help="how input files are decoded (default: the config's)")
    parser.add_argument('--device', default='cpu')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            sys.exit(f'{what} file {path!r} not found')
    inputs = {}
    for domain, path in args.inputs:
        if domain in inputs:
            sys.exit(f'--input {domain}= given twice')
        if not osp.isfile(path):
            sys.exit(f'input {domain}: file {path!r} not found')
        inputs[domain] = path
    from cen_mm.translation.apis import CENTranslationInferencer, write_picture
    inferencer = CENTranslationInferencer(args.config, args.checkpoint,
                                          device=args.device, decoding=args.decoding)
    try:
        result = inferencer(inputs, return_vis=True)
    except (ValueError, TypeError, OSError) as err:
        sys.exit(f'error: {err}')
    write_picture(result['visualization'], args.out_file)
    print(f'wrote {args.out_file}')
    if args.out_dir:
        for key, image in result['outputs'].items():
            write_picture(image, osp.join(args.out_dir, f'{key}.png'))
        print(f"wrote {len(result['outputs'])} outputs to {args.out_dir}")


if __name__ == '__main__':
    main()
