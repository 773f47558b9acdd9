# CEN with a ResNet-152 encoder; see cen_refinenet_r101.py.
_base_ = './cen_refinenet_r101.py'
model = dict(
    backbone=dict(
        depth=152,
        init_cfg=dict(type='Pretrained', checkpoint='torchvision://resnet152')))
