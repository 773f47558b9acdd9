"""Evaluate a checkpoint of a cen_mm model (mmseg- or mmagic-scope config).

    python tools/test.py CONFIG CKPT [--work-dir DIR] [--out OUT] [--show-dir DIR]
        [--tta] [--cfg-options k=v ...] [--launcher none|pytorch|slurm]

``--out``: ``*.pkl`` dumps the raw predictions (mmengine ``DumpResults``, both scopes);
any other path (mmseg scope) is a directory receiving the predicted label maps.
``--show-dir DIR``: saves a visualisation of every prediction under ``DIR``.
``--tta`` (mmseg scope): multi-scale + flip test with the config's ``tta_pipeline``.
CKPT is loaded with an allow-list (``--unsafe-load`` for files you trust) and strictly:
missing or mis-shaped weights are an error (``--non-strict-load`` to accept them).
Per-stream results of a CEN segmentor: ``--cfg-options model.test_cfg.output=0``.
"""
import argparse
import os
import os.path as osp
import sys

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..')))
import cen_mm  # noqa: E402,F401  (first: keeps transformers out of seg runs)
from mmengine.config import Config, DictAction  # noqa: E402

from cen_mm.engine.runner import SafetyError  # noqa: E402
from cen_mm.utils import (apply_data_root, build_runner,  # noqa: E402
                          prepare_work_dir, setup_distributed, teardown_distributed)


def parse_args():
    parser = argparse.ArgumentParser(description='Test (and eval) a CEN model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics')
    parser.add_argument('--out', help='*.pkl file for raw results, or (mmseg scope) '
                        'a directory for predicted label maps')
    parser.add_argument('--out-streams', action='store_true',
                        help='with --out DIR and StreamIoUMetric: also write every '
                        "stream's label maps to DIR/s{m}/")
    parser.add_argument('--show', action='store_true', help='show predictions')
    parser.add_argument('--show-dir', help='directory to save visualised predictions')
    parser.add_argument('--wait-time', type=float, default=2,
                        help='the interval of show (s)')
    parser.add_argument('--tta', action='store_true',
                        help='test time augmentation (mmseg scope)')
    parser.add_argument(
        '--unsafe-load', action='store_true',
        help='fully unpickle CKPT instead of loading it with the allow-list: can run '
        'code, only for files you trust')
    parser.add_argument(
        '--non-strict-load', action='store_true',
        help='accept a checkpoint with missing, unexpected or mis-shaped weights '
        '(they keep their initial values; default: error)')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override settings in the config, key=value pairs (xxx=yyy)')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'],
                        default='none', help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def _enable_seg_visualization(cfg, args):
    hook = cfg.default_hooks.get('visualization')
    if hook is None:
        raise KeyError('--show/--show-dir need `default_hooks.visualization` '
                       "(mmseg's SegVisualizationHook) in the config")
    hook['draw'] = True
    hook['interval'] = 1  # every test image (mmseg's default 50 would skip most)
    # cen_mm's subclasses draw from the model inputs (RGB, depth, ...: also samples
    # without an image file) and every stream's prediction; plain RGB data as mmseg
    if hook.get('type') in ('SegVisualizationHook', 'mmseg.SegVisualizationHook'):
        hook['type'] = 'RGBDSegVisualizationHook'
    if cfg.visualizer.get('type') in ('SegLocalVisualizer',
                                      'mmseg.SegLocalVisualizer'):
        cfg.visualizer['type'] = 'RGBDSegLocalVisualizer'
    names = next((h['stream_names'] for h in cfg.get('custom_hooks') or []
                  if h.get('stream_names')), None)  # e.g. ExchangeStatsHook's
    if names and cfg.visualizer['type'] == 'RGBDSegLocalVisualizer':
        cfg.visualizer.setdefault('stream_names', list(names))
    if args.show:
        hook['show'] = True
        hook['wait_time'] = args.wait_time
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir


def _enable_generic_visualization(cfg, args):
    """mmagic scope: BasicVisualizationHook writes the visualizer's images."""
    hooks = cfg.get('custom_hooks') or []
    if not any(h.get('type') == 'BasicVisualizationHook' for h in hooks):
        hooks.append(dict(type='BasicVisualizationHook', interval=1))
    cfg.custom_hooks = hooks
    if args.show_dir:
        cfg.visualizer['save_dir'] = args.show_dir
        backends = cfg.visualizer.get('vis_backends') or []
        if not any(b.get('type') in ('VisBackend', 'LocalVisBackend')
                   for b in backends):
            backends.append(dict(type='LocalVisBackend'))
        cfg.visualizer['vis_backends'] = backends


def main():
    args = parse_args()
    try:
        run(args)
    except SafetyError as err:
        sys.exit(f'error: {err}')


def run(args):
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if '://' not in path and not osp.isfile(path):
            sys.exit(f'{what} file {path!r} not found')
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
        apply_data_root(cfg, args.cfg_options)
    if args.unsafe_load:
        cfg.unsafe_load = True
    if args.non_strict_load:
        cfg.strict_test_load = False
    setup_distributed(cfg, args.launcher)
    scope = cfg.get('default_scope', 'mmseg')

    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    prepare_work_dir(cfg.work_dir)
    cfg.load_from = args.checkpoint
    cfg.resume = False

    if args.show or args.show_dir:
        if scope == 'mmseg':
            _enable_seg_visualization(cfg, args)
        else:
            _enable_generic_visualization(cfg, args)

    if args.tta:
        if scope != 'mmseg':
            sys.exit('--tta is only supported for mmseg-scope configs')
        if 'tta_model' not in cfg or 'tta_pipeline' not in cfg:
            sys.exit(f'--tta needs `tta_model` and `tta_pipeline` in {args.config}')
        cfg.test_dataloader.dataset.pipeline = cfg.tta_pipeline
        cfg.tta_model.module = cfg.model
        cfg.model = cfg.tta_model

    dump_to = None
    if args.out is not None:
        if args.out.endswith(('.pkl', '.pickle')):
            dump_to = args.out
        elif scope == 'mmseg':
            evaluators = cfg.test_evaluator if isinstance(
                cfg.test_evaluator, list) else [cfg.test_evaluator]
            for evaluator in evaluators:
                evaluator['output_dir'] = args.out
                evaluator['keep_results'] = True
                if evaluator.get('type') == 'StreamIoUMetric':
                    # ensemble -> OUT/NAME.png; streams -> OUT/s{m}/NAME.png
                    evaluator['output_streams'] = args.out_streams
        else:
            sys.exit('--out must be a .pkl file for non-mmseg configs')

    runner = build_runner(cfg)
    if dump_to is not None:
        loop = runner.test_loop
        if hasattr(loop, 'evaluators'):
            # mmagic's MultiTestLoop: its evaluators need metrics with mmagic's
            # sampler interface, which mmengine's DumpResults lacks.
            import cen_mm.translation  # noqa: F401
            from mmagic.registry import METRICS
            for evaluator in loop.evaluators:
                evaluator.metrics.append(METRICS.build(
                    dict(type='TranslationDumpResults', out_file_path=dump_to)))
        else:
            from mmengine.evaluator import DumpResults
            loop.evaluator.metrics.append(DumpResults(out_file_path=dump_to))
    runner.test()
    teardown_distributed()


if __name__ == '__main__':
    main()
