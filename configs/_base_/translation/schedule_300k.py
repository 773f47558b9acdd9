# Schedule of the CEN translation configs (TPAMI'23 §4, the official code): Adam 2e-4
# (0.5, 0.999) for generator and discriminator, constant lr, 300k iterations at batch 1
# (300 epochs of 1000 images), validation every 5k (5 epochs) with mmagic's multi-metric
# loops.
optim_wrapper = dict(
    constructor='MultiOptimWrapperConstructor',
    generators=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))),
    discriminators=dict(
        type='OptimWrapper',
        optimizer=dict(type='Adam', lr=2e-4, betas=(0.5, 0.999))))

# official code: 300 epochs of 1000 images at batch 1, constant lr, val every 5 epochs
train_cfg = dict(by_epoch=False, max_iters=300000, val_interval=5000)
val_cfg = dict(type='MultiValLoop')
test_cfg = dict(type='MultiTestLoop')
