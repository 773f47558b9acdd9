"""Train a cen_mm model (mmseg- or mmagic-scope config) with an mmengine Runner.

    python tools/train.py CONFIG [--work-dir DIR] [--resume [CKPT]] [--amp]
        [--auto-scale-lr] [--unsafe-load] [--cfg-options k=v ...]
        [--launcher none|pytorch|slurm]

Checkpoints are loaded with an allow-list (``--unsafe-load`` for files you trust),
saved atomically, and a NaN/Inf loss stops the run (exit status 1): docs/safety.md.
"""
import argparse
import os
import os.path as osp
import sys

# Repository root on sys.path so a fresh checkout works without `pip install -e .`.
sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
import cen_mm  # noqa: E402,F401  (first: keeps transformers out of seg runs)
from mmengine.config import Config, DictAction  # noqa: E402

from cen_mm.engine.runner import SafetyError  # noqa: E402
from cen_mm.utils import (apply_data_root, apply_resume, build_runner,  # noqa: E402
                          enable_amp, enable_auto_scale_lr, prepare_work_dir,
                          setup_distributed, teardown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Train a CEN model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume training: without a value from the latest checkpoint in the work '
        'dir, or from the given checkpoint path')
    parser.add_argument('--amp', action='store_true',
                        help='automatic mixed precision training')
    parser.add_argument('--auto-scale-lr', action='store_true',
                        help='scale the lr by (total batch size / base_batch_size)')
    parser.add_argument(
        '--unsafe-load', action='store_true',
        help='fully unpickle checkpoints (load_from, --resume, Pretrained init) instead '
        'of loading them with the allow-list: can run code, only for files you trust')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs (xxx=yyy)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    # torch.distributed.launch passes --local-rank; torchrun sets LOCAL_RANK instead.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def main():
    args = parse_args()
    try:
        run(args)
    except SafetyError as err:
        sys.exit(f'error: {err}')


def run(args):
    if not osp.isfile(args.config):
        sys.exit(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
        apply_data_root(cfg, args.cfg_options)
    if args.unsafe_load:
        cfg.unsafe_load = True
    setup_distributed(cfg, args.launcher)

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    prepare_work_dir(cfg.work_dir)
    if args.amp:
        enable_amp(cfg)
    if args.auto_scale_lr:
        enable_auto_scale_lr(cfg)
    apply_resume(cfg, args.resume)

    runner = build_runner(cfg)
    runner.train()
    teardown_distributed()


if __name__ == '__main__':
    main()
