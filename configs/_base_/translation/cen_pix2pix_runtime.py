# Runtime of the CEN translation configs (mmagic scope; optimizers and loops:
# schedule_300k.py): CEN sparsity λ = 1e-3 on the exchanging INs (NeurIPS'20
# §4.2 and TPAMI'23 §4 for translation, and the official code's --lamda default; added
# once per step; the segmentation values 5e-3 / 2e-4 do not apply here),
# exchange statistics, checkpoints, CENTranslationRunner, evaluation templates.
default_scope = 'mmagic'
custom_imports = dict(
    imports=['cen_mm', 'cen_mm.translation'], allow_failed_imports=False)

custom_hooks = [
    dict(type='CENSparsityHook', lambda_=1e-3),
    dict(type='ExchangeStatsHook', interval=1000),
]
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=100, log_metric_by_epoch=False),
    checkpoint=dict(
        type='CheckpointHook',
        interval=5000,
        by_epoch=False,
        max_keep_ckpts=5,
        save_optimizer=True),
    sampler_seed=dict(type='DistSamplerSeedHook'))

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'))
model_wrapper_cfg = dict(
    type='MMSeparateDistributedDataParallel',
    broadcast_buffers=False,
    find_unused_parameters=False)

vis_backends = [dict(type='VisBackend')]
# img_keys: filled from `tasks` (domains, then every evaluated output)
visualizer = dict(
    type='ConcatImageVisualizer',
    vis_backends=vis_backends,
    fn_key='sample_name',
    img_keys=[],
    bgr2rgb=True)
log_processor = dict(type='LogProcessor', by_epoch=False)
log_level = 'INFO'
randomness = dict(seed=2022)
load_from = None
resume = False

# cen_mm's runner (docs/safety.md): checkpoints loaded with an allow-list, saved
# atomically (CheckpointHook -> SafeCheckpointHook), a NaN/Inf loss or weight stops the
# run (default_hooks.non_finite_guard, patience=1), test-time loading is strict.
# CENTranslationRunner = CENRunner + cen_mm.translation.task_keys.fill_task_keys: the
# entries left None / empty here (datasets' `domains`, evaluators' `metrics`,
# `visualizer.img_keys`) are filled from the config's `tasks` before anything is built.
runner_type = 'CENTranslationRunner'
unsafe_load = False  # True (or --unsafe-load): fully unpickle checkpoints you trust
strict_test_load = True  # False (or tools/test.py --non-strict-load): accept mismatches

# Evaluation templates, instantiated from `tasks` for the ensemble and every stream of
# every output (val/test_evaluator.metrics below stay None until then): FID and KID
# (×100) for RGB outputs, MAE and RMSE (×100, on [-1, 1]; the papers' "MSE" column)
# for the others. The Inception weights are read from `inception_path` or the default
# cache location of the style (never downloaded); set them on the templates, e.g.
# --cfg-options rgb_metrics.0.inception_path=P rgb_metrics.1.inception_path=P.
# fid_protocol='official': the official CEN evaluation behind the papers' FID/KID
# columns (every real and generated image min-max stretched, rendered through
# matplotlib into a 500 px PNG, read back); 'plain' feeds the images themselves.
fid_protocol = 'official'
rgb_metrics = [
    dict(type='TranslationFID', inception_style='PyTorch', inception_path=None,
         protocol=fid_protocol),
    dict(type='TranslationKID', inception_style='PyTorch', inception_path=None,
         protocol=fid_protocol),
]
pixel_metrics = [
    dict(type='TranslationMAE'),
    dict(type='TranslationMSE', root_of_mean=True),
]
val_evaluator = dict(type='Evaluator', metrics=None)
test_evaluator = val_evaluator
