# The papers' schedule for SUN RGB-D: as schedule_300e.py (SGD 0.9, wd 1e-5, lr 5e-4
# encoder / 3e-3 decoder, batch 6) but halved every 20 epochs, 60 epochs. SUN RGB-D
# train has 5285 images: 881 iterations per epoch, 52,860 iterations in total.
_base_ = './schedule_300e.py'
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[20, 40], gamma=0.5)
]
train_cfg = dict(max_epochs=60, val_interval=5)
