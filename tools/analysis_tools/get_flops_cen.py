"""cen_mm's FLOPs / parameter counter for M-stream CEN configs (segmentation and
translation).

mmseg's ``tools/analysis_tools/get_flops.py`` builds a 3-channel input and fails on
CEN configs; this one builds the config's stacked input (sum of the backbone's
``in_channels``, e.g. RGB 3 + depth 1 = 4) and counts with mmengine's ``FlopAnalyzer``
and ``ActivationAnalyzer``::

    python tools/analysis_tools/get_flops_cen.py CONFIG [--shape H W] [--json OUT]
        [--cfg-options k=v ...]

It reports the FLOPs of one inference forward of the whole model (all M streams,
the shared head on every stream and the ensemble: what ``tools/test.py`` runs) for
one sample, the parameters in total and by part (shared convolutions, private
per-stream norms, heads, ensemble weights), and the papers' parameter count where one
exists (NeurIPS'20 Table 2). No weights are loaded (``init_cfg`` is ignored).
Translation (mmagic-scope) configs: FLOPs of the generator for one sample (every task's
input streams at the config's test size) and the parameters of generator (private
norms separately) and discriminators, with TPAMI'23's "Gen" counts (Tables 6-9).
FLOPs follow mmengine's counting (``FlopAnalyzer``, what ``get_model_complexity_info``
uses): convolutions, matrix products, upsampling; element-wise ops and batch norm are
not counted.
"""
import argparse
import json
import os
import os.path as osp
import sys
import tempfile

sys.path.insert(0, osp.abspath(osp.join(osp.dirname(__file__), '..', '..')))

# Parameter counts printed in the papers, by config file name (millions).
PAPER_PARAMS = {
    'refinenet_r101_nyud.py': (118.2, "NeurIPS'20 Table 2, CEN (Ours)"),
    'refinenet_r101_nyud_convs-shared_bn-unshared_l1-half_exchange-yes.py':
    (118.2, "NeurIPS'20 Table 2, CEN (Ours)"),
    'refinenet_r101_nyud_convs-shared_bn-shared_l1-none_exchange-no.py':
    (118.1, "NeurIPS'20 Table 2, uni-modal RefineNet-R101"),
}


# Generator parameters printed in TPAMI'23 Tables 6-9 ("Gen", millions), by the
# translation config's variant (file-name prefix).
PAPER_GEN_PARAMS = {
    'cen-pix2pix_cycle-dec1_': (54.5, "TPAMI'23 Table 6, CEN-cycle (dec x1)"),
    'cen-pix2pix_cycle-dec3_': (124.2, "TPAMI'23 Table 6, CEN-cycle (dec x3)"),
    'cen-pix2pix_cycle-random_': (124.2, "TPAMI'23 Table 6, CEN-random"),
    'cen-pix2pix_multitask-indiv_': (89.3, "TPAMI'23 Table 7, Indiv (enc x1)"),
    'cen-pix2pix_mm-multitask-': (89.3, "TPAMI'23 Table 9"),
}


def paper_params(config_name: str):
    """(millions, source) printed in the papers for this config, else None."""
    if config_name in PAPER_PARAMS:
        return PAPER_PARAMS[config_name]
    if config_name.startswith('cen-pix2pix_multitask-cen-dec_'):
        outputs = config_name.split('-to-', 1)[1].split('_')[0].count('+') + 1
        return ((89.3, "TPAMI'23 Table 7, CEN-dec") if outputs == 2 else
                (124.3, "TPAMI'23 Table 8, CEN-dec") if outputs == 3 else None)
    for prefix, value in PAPER_GEN_PARAMS.items():
        if config_name.startswith(prefix):
            return value
    return None


def parse_args(argv=None):
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(
        description='cen_mm: FLOPs and parameters of an M-stream CEN config')
    parser.add_argument('config', help='config file (segmentation or translation)')
    parser.add_argument('--shape', type=int, nargs=2, metavar=('H', 'W'),
                        help="input height and width (default: the data "
                        "preprocessor's size, else 512 512)")
    parser.add_argument('--json', help='also write the numbers to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help='override config settings, key=value pairs')
    return parser.parse_args(argv)


def is_translation(cfg) -> bool:
    return cfg.get('default_scope') == 'mmagic'


def build_model(cfg):
    """The config's model on CPU in eval mode, without loading any weights."""
    from mmengine.registry import DefaultScope
    if is_translation(cfg):
        import cen_mm.translation  # noqa: F401
        from mmagic.registry import MODELS
        with DefaultScope.overwrite_default_scope('mmagic'):
            return MODELS.build(cfg.model).eval()
    from mmseg.registry import MODELS
    model_cfg = cfg.model.copy()
    model_cfg.pop('pretrained', None)
    for part in ('backbone', 'decode_head', 'auxiliary_head', 'neck'):
        if isinstance(model_cfg.get(part), dict):
            model_cfg[part].pop('init_cfg', None)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmseg')):
        model = MODELS.build(model_cfg)
    return model.eval()


class GeneratorForward:
    """``CENUnetGenerator`` on all tasks, returning a tuple (for tracing)."""

    @staticmethod
    def wrap(generator, num_tasks: int):
        import torch.nn as nn

        class _Wrapped(nn.Module):

            def __init__(self):
                super().__init__()
                self.generator = generator

            def forward(self, x):
                out = self.generator(x, tasks=list(range(num_tasks)))
                return out['ensemble'], out['streams']

        return _Wrapped()


def input_channels(cfg) -> tuple:
    """Channels per modality: the backbone's ``in_channels`` (an int: one stream)."""
    channels = cfg.model.get('backbone', {}).get('in_channels', 3)
    return (channels, ) if isinstance(channels, int) else tuple(channels)


def input_shape(cfg, shape=None) -> tuple:
    if shape:
        return tuple(shape)
    size = (cfg.model.get('data_preprocessor') or {}).get('size')
    return tuple(size) if size else (512, 512)


def parameter_breakdown(model) -> dict:
    """Parameters (count) by part; private norms are the ModalityNorm layers."""
    from cen_mm.core import ModalityNorm
    parts = dict(total=sum(p.numel() for p in model.parameters()))
    backbone = getattr(model, 'backbone', None)
    if backbone is not None:
        private = sum(p.numel() for module in backbone.modules()
                      if isinstance(module, ModalityNorm)
                      for p in module.parameters())
        total = sum(p.numel() for p in backbone.parameters())
        parts['backbone'] = total
        parts['backbone_private_norms'] = private
        parts['backbone_shared'] = total - private
    for name in ('neck', 'decode_head', 'auxiliary_head'):
        module = getattr(model, name, None)
        if module is not None:
            parts[name] = sum(p.numel() for p in module.parameters())
    ensemble = getattr(model, 'ensemble', None)  # cen_mm.core.stream_ensemble
    if ensemble is not None and hasattr(ensemble, 'parameters'):
        # α of a StreamEnsemble, or the 1x1 conv of a ConcatFusionEnsemble
        parts['ensemble_alpha'] = sum(p.numel() for p in ensemble.parameters())
    return parts


def _count(module, inputs) -> dict:
    """FLOPs (total and by top-level part) and activations of ``module(*inputs)``."""
    import torch
    from mmengine.analysis import ActivationAnalyzer, FlopAnalyzer
    # what mmengine's get_model_complexity_info runs, with its per-layer warnings off
    # (the private norms run as one fused call, so their sub-layers are "never called")
    with torch.no_grad():
        flops = FlopAnalyzer(module, inputs).unsupported_ops_warnings(
            False).uncalled_modules_warnings(False)
        activations = ActivationAnalyzer(module, inputs).unsupported_ops_warnings(
            False).uncalled_modules_warnings(False)
        return dict(flops=int(flops.total()), activations=int(activations.total()),
                    by_module=flops.by_module())


def translation_size(cfg) -> int:
    """The image side the translation config tests at (Resize, else the loader)."""
    for transform in cfg.test_dataloader.dataset.pipeline:
        if transform.get('type') == 'Resize' and transform.get('scale'):
            return int(transform['scale'][0])
        if transform.get('size'):
            return int(transform['size'])
    return 256


def complexity_translation(cfg, shape=None) -> dict:
    """Generator FLOPs for one sample (every task, every input stream), parameters of
    generator (private norms separately) and discriminators."""
    import torch

    from cen_mm.core import ModalityNorm
    model = build_model(cfg)
    generator = model.generators
    num_tasks, num_inputs = len(model.tasks), model.num_inputs
    h, w = shape or (translation_size(cfg), ) * 2
    inputs = (torch.zeros(num_tasks * num_inputs, generator.in_channels, h, w), )
    counted = _count(GeneratorForward.wrap(generator, num_tasks), inputs)
    gen = sum(p.numel() for p in generator.parameters())
    private = sum(p.numel() for m in generator.modules() if isinstance(m, ModalityNorm)
                  for p in m.parameters())
    disc = sum(p.numel() for p in model.discriminators.parameters())
    return dict(
        config=osp.basename(cfg.filename) if cfg.filename else None, scope='mmagic',
        input_shape=list(inputs[0].shape), num_tasks=num_tasks, num_streams=num_inputs,
        flops=counted['flops'], flops_per_stream=counted['flops'] / (
            num_tasks * num_inputs), activations=counted['activations'],
        params=dict(total=gen + disc, generator=gen, generator_private_norms=private,
                    generator_shared=gen - private, discriminators=disc))


def complexity(cfg, shape=None) -> dict:
    """FLOPs of one forward (all streams + ensemble) for a (1, sum C_m, H, W) input,
    activations and parameters (segmentation); see ``complexity_translation``."""
    if is_translation(cfg):
        return complexity_translation(cfg, shape)
    import torch
    model = build_model(cfg)
    channels = input_channels(cfg)
    h, w = input_shape(cfg, shape)
    inputs = (torch.zeros(1, sum(channels), h, w), )
    counted = _count(model, inputs)
    parts = {name: int(counted['by_module'].get(name, 0))
             for name in ('backbone', 'neck', 'decode_head', 'auxiliary_head')
             if getattr(model, name, None) is not None}
    streams = getattr(model, 'num_streams', 1)
    return dict(
        config=osp.basename(cfg.filename) if cfg.filename else None, scope='mmseg',
        input_shape=[1, sum(channels), h, w], modality_channels=list(channels),
        num_streams=streams, flops=counted['flops'],
        flops_per_stream=counted['flops'] / streams, flops_by_part=parts,
        activations=counted['activations'], params=parameter_breakdown(model))


def report(result: dict) -> str:
    gflops = result['flops'] / 1e9
    p = result['params']
    if result.get('scope') == 'mmagic':
        lines = [
            f"config: {result['config']}",
            f"input: {tuple(result['input_shape'])} = {result['num_tasks']} task(s) x "
            f"{result['num_streams']} input stream(s), one sample",
            f'generator FLOPs (all tasks and streams + ensembles): {gflops:.2f} G '
            f"(mean per stream {result['flops_per_stream'] / 1e9:.2f} G)",
        ]
        keys = ('generator', 'generator_shared', 'generator_private_norms',
                'discriminators')
        measured, what = p['generator'], 'generator'
    else:
        lines = [
            f"config: {result['config']}",
            f"input: {tuple(result['input_shape'])} = modalities "
            f"{tuple(result['modality_channels'])} stacked, "
            f"{result['num_streams']} streams",
            f'FLOPs (one forward, all streams + ensemble): {gflops:.2f} G '
            f"(mean per stream {result['flops_per_stream'] / 1e9:.2f} G)",
            *(f'  {name}: {value / 1e9:.2f} G'
              for name, value in result.get('flops_by_part', {}).items()),
        ]
        keys = ('backbone_shared', 'backbone_private_norms', 'neck', 'decode_head',
                'auxiliary_head', 'ensemble_alpha')
        measured, what = p['total'], 'parameters'
    lines.append(f"parameters: {p['total'] / 1e6:.2f} M")
    for key in keys:
        if key in p:
            lines.append(f'  {key}: {p[key] / 1e6:.4f} M ({p[key]})')
    paper = paper_params(result['config'] or '')
    if paper:
        lines.append(f'paper: {paper[0]} M {what} ({paper[1]}); measured '
                     f'{measured / 1e6:.1f} M')
    return '\n'.join(lines)


def write_json(data: dict, path: str) -> None:
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(suffix='.json', dir=folder)
    with os.fdopen(fd, 'w') as f:
        json.dump(data, f, indent=2)
    os.replace(tmp, path)


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        sys.exit(f'config file {args.config!r} not found')
    import cen_mm  # noqa: F401
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    result = complexity(cfg, args.shape)
    paper = paper_params(result['config'] or '')
    if paper:
        result['paper_params_m'] = paper[0]
    print(report(result))
    if args.json:
        write_json(result, args.json)
    return result


if __name__ == '__main__':
    main()
