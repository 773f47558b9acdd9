# The papers' segmentation schedule (NeurIPS'20 §4.1, TPAMI'23 §4), NYUDv2 + R-101:
# SGD, momentum 0.9, weight decay 1e-5 (on every parameter, as the official code),
# lr 5e-4 for the encoder (`backbone`) and 3e-3 for everything else, both halved every
# 100 epochs, 300 epochs, batch 6.
#
# Encoder / decoder split: the official code gives every parameter outside the ResNet
# (decoder, ensemble weights alpha) to its "decoder" optimiser; here that is
# `decode_head`, `auxiliary_head`, `neck` and the segmentor's `alpha`, at lr_mult 6
# (6 x 5e-4 = 3e-3). In the training log, `base_lr` is the encoder lr and `lr` the
# lr of the first parameter group (alpha: the decoder lr).
#
# Epoch-based: NYUDv2 train has 795 images, i.e. 133 iterations per epoch at batch 6
# and 39,900 iterations in total (the official code drops the last partial batch:
# 132 / 39,600). The official code's third stage uses lr 1e-4 / 7e-4 rather than an
# exact halving (1.25e-4 / 7.5e-4); we follow the paper's text.
# Batch: `train_dataloader.batch_size` (6 in the dataset configs) is per process; the
# paper's 6 is the total. For another total batch size, --auto-scale-lr scales every
# lr by total / 6.
decoder_lr_mult = 6.0  # 3e-3 / 5e-4
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=5e-4, momentum=0.9, weight_decay=1e-5),
    clip_grad=None,
    paramwise_cfg=dict(
        custom_keys={
            'decode_head': dict(lr_mult=decoder_lr_mult),
            'auxiliary_head': dict(lr_mult=decoder_lr_mult),
            'neck': dict(lr_mult=decoder_lr_mult),
            'alpha': dict(lr_mult=decoder_lr_mult),  # CENEncoderDecoder.alpha
        }))
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[100, 200], gamma=0.5)
]
auto_scale_lr = dict(enable=False, base_batch_size=6)

# Validation every 5 epochs as the official code (on the test split, as every NYUDv2
# paper does; `save_best` keeps the best such checkpoint, the last one is the
# selection-free number).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=300, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, log_metric_by_epoch=True),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(
        type='CheckpointHook', by_epoch=True, interval=5, max_keep_ckpts=3,
        save_best='mIoU', rule='greater'),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    visualization=dict(type='SegVisualizationHook'))
