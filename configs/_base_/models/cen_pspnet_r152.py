# CEN PSPNet with a dilated ResNet-152 encoder; see cen_pspnet_r101.py.
_base_ = './cen_pspnet_r101.py'
model = dict(
    backbone=dict(
        depth=152,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet152')))
