# The CMX optimizer for MiT on NYUDv2 (schedule_cmx_adamw_500e.py: AdamW 6e-5, wd
# 0.01; CMX's SUN RGB-D config could not be read, DFormer's SUN RGB-D lr 8e-5 is for
# its own encoder) over the SUN RGB-D length of DFormer (Yin et al., ICLR'24;
# VCIP-RGBD/DFormer local_configs/SUNRGBD/DFormer_Base.py: C.nepochs = 300; 5285
# training images = 331 iterations per epoch at batch 16). The 10-epoch warm-up and
# poly power 0.9 of the base are DFormer's C.warm_up_epoch and C.lr_power as well.
_base_ = ['./schedule_cmx_adamw_500e.py']
param_scheduler = [
    _base_.param_scheduler[0],
    dict(_base_.param_scheduler[1], end=300),
]
train_cfg = dict(_base_.train_cfg, max_epochs=300)
