# The papers' schedule for NYUDv2 + ResNet-152: as schedule_300e.py (SGD 0.9, wd 1e-5,
# lr 5e-4 encoder / 3e-3 decoder, batch 6) but halved every 150 epochs, 450 epochs
# (133 iterations per epoch, 59,850 iterations in total).
_base_ = './schedule_300e.py'
param_scheduler = [
    dict(type='MultiStepLR', by_epoch=True, milestones=[150, 300], gamma=0.5)
]
train_cfg = dict(max_epochs=450)
