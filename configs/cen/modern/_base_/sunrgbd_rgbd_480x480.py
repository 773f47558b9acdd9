# SUN RGB-D RGB + raw depth (configs/_base_/datasets/sunrgbd_rgbd.py)
# with the SUN RGB-D training crops of DFormer (Yin et al., ICLR'24; official code
# VCIP-RGBD/DFormer local_configs/_base_/datasets/SUNRGBD.py and
# local_configs/SUNRGBD/DFormer_Base.py): random scales 0.5-1.75 (C.train_scale_array),
# 480x480 crops (C.image_height/width), flip, batch 16 (C.batch_size). DFormer scales
# each image's own size; here the scales are of a 640x480 frame (mmseg's RandomResize
# needs a base scale; most SUN RGB-D frames are 640x480 or close to it). Resizing per
# modality as the base; test: full frames, as the base (DFormer evaluates 480x480
# sliding windows, multi-scale + flip: use tta_pipeline for the latter).
_base_ = ['../../../_base_/datasets/sunrgbd_rgbd.py']
crop_size = (480, 480)
rgbd_data_preprocessor = dict(_base_.rgbd_data_preprocessor, size=crop_size)
# the base's training pipeline with the anchors' scale range and crop
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(_base_.train_pipeline[2], ratio_range=(0.5, 1.75)),
    dict(type='RandomCrop', crop_size=crop_size),
    *_base_.train_pipeline[4:],
]
train_dataloader = dict(batch_size=16, dataset=dict(pipeline=train_pipeline))
