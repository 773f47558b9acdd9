# Runtime of the CEN segmentation configs (mmseg scope).
default_scope = 'mmseg'
custom_imports = dict(imports=['cen_mm'], allow_failed_imports=False)
env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))  # tools/train.py switches to gloo on CPU-only nodes
vis_backends = [dict(type='LocalVisBackend')]
# TensorBoard (opt-in; needs the `tensorboard` package):
# vis_backends = [dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')]
# mmseg's SegLocalVisualizer drawing one picture per sample: RGB, depth (colour-mapped),
# ground truth, ensemble and every stream's prediction (cen_mm.seg.visualization)
visualizer = dict(
    type='RGBDSegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
log_processor = dict(by_epoch=True)
log_level = 'INFO'
load_from = None
resume = False

# cen_mm's runner (docs/safety.md): checkpoints loaded with an allow-list, saved
# atomically (CheckpointHook -> SafeCheckpointHook), a NaN/Inf loss or weight stops the
# run (default_hooks.non_finite_guard, patience=1), test-time loading is strict.
runner_type = 'CENRunner'
unsafe_load = False  # True (or --unsafe-load): fully unpickle checkpoints you trust
strict_test_load = True  # False (or tools/test.py --non-strict-load): accept mismatches
# The papers do not give a seed (the official code uses 42):
# randomness = dict(seed=42)

# The CEN hooks of every paper config (configs/cen/*.py).
# lambda (l1 weight on each stream's own half of every exchanging BN's gamma, applied by
# CENSparsityHook once per optimizer step): 5e-3, the papers' text (NeurIPS'20 §4.1,
# TPAMI'23 §4). Other values in the sources, not used here: the official code sets
# 2e-4 but adds lambda * l1 to the loss once per output (2 streams + ensemble), i.e.
# 3 x 2e-4 = 6e-4 in effect (--cfg-options custom_hooks.0.lambda_=6e-4 reproduces
# it); TPAMI'23 Fig. 9 (sensitivity analysis) marks lambda = 1e-3, theta = 1e-2 as
# its defaults. Details: docs/paper_protocol.md. A config with other hooks redefines
# the list, e.g. `custom_hooks = [dict(_base_.custom_hooks[0], penalty_channels='all'),
# _base_.custom_hooks[1]]`.
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=5e-3, mode='subgradient',
         penalty_channels='subpart', log_interval=20),
    # exchanged channels and gamma per layer/stream: {work_dir}/exchange_stats.jsonl
    # and figures at every validation (per-layer scalars stay out of the text log)
    dict(type='ExchangeStatsHook', interval=500, stream_names=['rgb', 'depth'],
         log_per_layer=False),
]

# `python tools/test.py CONFIG CKPT --tta`: multi-scale + flip test with the dataset
# config's `tta_pipeline`; mmseg's SegTTAModel averages the (ensemble) probabilities.
tta_model = dict(type='SegTTAModel')
