# The CMX recipe for MiT encoders on NYUDv2 (Zhang et al., "CMX: Cross-Modal Fusion
# for RGB-X Semantic Segmentation with Transformers", T-ITS'23; official code
# huaaaliu/RGBX_Semantic_Segmentation, configs/NYUDepthv2/NYUDepthv2_mit_b2_e500_v1.py):
#   AdamW, lr 6e-5 (C.lr), weight decay 0.01 (C.weight_decay), betas (0.9, 0.999)
#   (C.momentum = 0.9 is AdamW's beta1), no weight decay on norm layers (its
#   group_weight), poly decay with power 0.9 (C.lr_power) after a 10-epoch warm-up
#   (C.warm_up_epoch), 500 epochs (C.nepochs), batch 8 (C.batch_size), random scales
#   0.5-1.75 (C.train_scale_array) and 480x640 crops (C.image_height/width).
# One lr for encoder and decoder, as CMX (mmseg's own SegFormer recipe uses lr_mult 10
# on the head). Epoch-based: 795 NYUDv2 training images = 100 iterations per epoch at
# batch 8 (CMX: 795 // 8 + 1), 50,000 iterations.
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    clip_grad=None,
    paramwise_cfg=dict(norm_decay_mult=0.0, custom_keys={'pos_block': dict(
        decay_mult=0.0)}))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0, end=10,
         convert_to_iter_based=True),
    dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=10, end=500,
         convert_to_iter_based=True),
]
auto_scale_lr = dict(enable=False, base_batch_size=8)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=500, val_interval=25)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=25, max_keep_ckpts=3,
        save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
