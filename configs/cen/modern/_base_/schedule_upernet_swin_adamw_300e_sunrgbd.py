# Swin's mmseg UPerNet optimizer (schedule_upernet_swin_adamw_500e.py) over the SUN
# RGB-D length of DFormer (Yin et al., ICLR'24; VCIP-RGBD/DFormer
# local_configs/SUNRGBD/DFormer_Base.py: C.nepochs = 300; 5285 training images = 331
# iterations per epoch at batch 16). Poly power (1.0) and warm-up of the same mmseg
# recipe; its 1500-iteration warm-up rounded up to whole epochs (5 epochs = 1655
# iterations at 331 per epoch).
_base_ = ['./schedule_upernet_swin_adamw_500e.py']
param_scheduler = [
    dict(_base_.param_scheduler[0], by_epoch=True, end=5, convert_to_iter_based=True),
    dict(_base_.param_scheduler[1], begin=5, end=300),
]
train_cfg = dict(_base_.train_cfg, max_epochs=300)
