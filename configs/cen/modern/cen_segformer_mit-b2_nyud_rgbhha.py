# CEN + SegFormer head on MiT-B2, NYUDv2 RGB + HHA (40 classes; CMX's input), trained
# with the CMX recipe for MiT-B2 on NYUDv2 (_base_/schedule_cmx_adamw_500e.py and
# _base_/nyud_rgbhha_480x640.py cite every number). Channel exchange on the LayerNorm
# scale of every transformer block's norm1/norm2 (docs/backbones.md). Its no-exchange
# baseline (same parameters, private norms, ensemble only):
# cen_segformer_mit-b2_nyud_rgbhha_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_segformer_mit-b2_nyud_rgbhha.py
# Accuracy: not measured (not trained yet).
# Not tuned for LayerNorm: theta = 2e-2 and lambda = 5e-3 (CENSparsityHook from
# default_runtime.py) are the papers' BN values for ResNet + SGD; with AdamW the l1
# subgradient enters Adam's normalised update, so the same lambda acts differently.
_base_ = [
    '../../_base_/models/cen_segformer_mit-b2.py', './_base_/nyud_rgbhha_480x640.py',
    '../../_base_/default_runtime.py', './_base_/schedule_cmx_adamw_500e.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=40))
