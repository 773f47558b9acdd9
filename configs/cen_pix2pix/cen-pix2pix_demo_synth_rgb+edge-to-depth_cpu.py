# CPU demo (no files needed): CEN multimodal fusion RGB + occlusion edges -> depth on
# procedurally generated 64x64 scenes (cen_mm/translation/datasets/synth_domains.py),
# the small-scale analogue of TPAMI'23 Table 4 "RGB+Edge -> Depth". Trains in a few
# minutes on 2 CPU cores and reports MAE / RMSE (x100, on [-1, 1]) for the ensemble and
# for each input stream:
#   python tools/train.py \
#       configs/cen_pix2pix/cen-pix2pix_demo_synth_rgb+edge-to-depth_cpu.py
# On a shared/busy machine set OMP_NUM_THREADS=1 (small convs slow down a lot when
# threads compete for cores).
# Differences from the paper configs, for speed only: 6-level U-Net with 16 base
# channels, batch 4, 600 iterations, and a sparsity penalty strong enough to act within
# the demo (λ = 1e-2 instead of 1e-3, the norms' learning rate x25): from about
# iteration 300 on, γ in the streams' sub-parts fall below θ = 1e-2 and those channels
# are exchanged (`exchanged_frac` in the log, figures in work_dir/exchange_plots).
_base_ = [
    '../_base_/translation/cen_pix2pix_unet256.py',
    '../_base_/translation/cen_pix2pix_runtime.py',
    '../_base_/translation/schedule_300k.py'
]

tasks = [dict(inputs=['rgb', 'edge_occlusion'], target='depth_zbuffer')]
image_size = 64

model = dict(
    tasks=tasks,
    generator=dict(num_down=6, base_channels=16),
    discriminator=dict(base_channels=16),
    # deterministic evaluation (the paper configs keep Pix2Pix's test-time dropout)
    test_in_train_mode=False)

# the datasets' domains, the evaluated outputs (MAE / RMSE of the ensemble and of
# each stream) and the visualized images follow from `tasks`
# (cen_mm/translation/task_keys.py)
train_pipeline = [
    dict(type='LoadSynthDomains', size=image_size),
    dict(type='Flip', keys=['img'], flip_ratio=0.5, direction='horizontal'),
    dict(type='PackDomains'),
]
test_pipeline = [
    dict(type='LoadSynthDomains', size=image_size),
    dict(type='PackDomains'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=0,
    sampler=dict(type='InfiniteSampler', shuffle=True),
    dataset=dict(
        type='SynthMultiDomainDataset',
        num_samples=400,
        seed=0,
        pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=8,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type='SynthMultiDomainDataset',
        num_samples=32,
        seed=100000,
        test_mode=True,
        pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(
    generators=dict(paramwise_cfg=dict(custom_keys={'norms': dict(lr_mult=25.0)})))
train_cfg = dict(max_iters=600, val_interval=200)
default_hooks = dict(
    logger=dict(interval=20),
    checkpoint=dict(interval=200, max_keep_ckpts=1))
custom_hooks = [
    dict(type='CENSparsityHook', lambda_=1e-2, log_interval=20),
    dict(type='ExchangeStatsHook', interval=100),
]
