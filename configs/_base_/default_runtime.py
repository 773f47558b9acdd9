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

# `python tools/test.py CONFIG CKPT --tta`: multi-scale + flip test with the dataset
# config's `tta_pipeline`; mmseg's SegTTAModel averages the (ensemble) probabilities.
tta_model = dict(type='SegTTAModel')
