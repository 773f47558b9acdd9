# CEN + UPerNet on Swin-T, NYUDv2 RGB + raw depth (40 classes). Channel exchange on
# the LayerNorm scale of norm1/norm2 of every Swin block (docs/backbones.md). Its
# no-exchange baseline: cen_upernet_swin-t_nyud_rgbd_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_upernet_swin-t_nyud_rgbd.py
# Recipe: the optimizer of Swin's own UPerNet recipe in mmseg 1.2.2
# (configs/swin/swin-tiny-patch4-window7-in1k-pre_upernet_8xb2-160k_ade20k-512x512.py:
# AdamW lr 6e-5, betas (0.9, 0.999), weight decay 0.01, none on position tables and
# norms, 1500-iteration linear warm-up from 1e-6, poly decay with power 1.0), over the
# NYUDv2 length, batch and crops of CMX (_base_/schedule_cmx_adamw_500e.py,
# _base_/nyud_rgbd_480x640.py: 500 epochs, batch 8, 480x640).
# Accuracy: not measured (not trained yet). theta / lambda: the papers' BN values, not
# tuned for LayerNorm (see cen_segformer_mit-b2_nyud_rgbd.py).
_base_ = [
    '../../_base_/models/cen_upernet_swin-t.py', './_base_/nyud_rgbd_480x640.py',
    '../../_base_/default_runtime.py', './_base_/schedule_cmx_adamw_500e.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=40),
    auxiliary_head=dict(num_classes=40))
optim_wrapper = dict(
    _delete_=True,
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01),
    paramwise_cfg=dict(
        custom_keys={
            'absolute_pos_embed': dict(decay_mult=0.),
            'relative_position_bias_table': dict(decay_mult=0.),
            'norm': dict(decay_mult=0.)
        }))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=True, begin=15, end=500,
         convert_to_iter_based=True),  # 1500 iterations = 15 epochs at batch 8
]
