# CEN + SegFormer head on MiT-B5, NYUDv2 RGB + HHA (HHA from
# tools/dataset_converters/depth2hha.py), 40 classes, trained with the CMX recipe for
# MiT encoders on NYUDv2 (_base_/schedule_cmx_adamw_500e.py and
# _base_/nyud_rgbhha_480x640.py cite every number; taken from CMX's MiT-B2 config, its
# MiT-B5 config could not be read, so B5-specific differences, if any, are not
# reflected). Channel exchange on the LayerNorm scale of every transformer block's
# norm1/norm2 (docs/backbones.md). Its no-exchange baseline:
# cen_segformer_mit-b5_nyud_rgbhha_no-exchange.py.
#   python tools/train.py configs/cen/modern/cen_segformer_mit-b5_nyud_rgbhha.py
# Accuracy: not measured (not trained yet). theta / lambda: the papers' BN values, not
# tuned for LayerNorm (see cen_segformer_mit-b2_nyud_rgbd.py).
_base_ = [
    '../../_base_/models/cen_segformer_mit-b5.py', './_base_/nyud_rgbhha_480x640.py',
    '../../_base_/default_runtime.py', './_base_/schedule_cmx_adamw_500e.py'
]
model = dict(
    data_preprocessor=_base_.rgbd_data_preprocessor,
    backbone=dict(in_channels=_base_.rgbd_modality_channels),
    decode_head=dict(num_classes=40))
