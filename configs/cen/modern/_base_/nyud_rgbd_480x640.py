# NYUDv2 RGB + raw depth (configs/_base_/datasets/nyud_rgbd.py) with the training
# crops of CMX (Zhang et al., T-ITS'23; huaaaliu/RGBX_Semantic_Segmentation
# configs/NYUDepthv2/NYUDepthv2_mit_b2_e500_v1.py): random scales 0.5-1.75 of the
# 640x480 frame (C.train_scale_array), 480x640 crops (C.image_height/width), flip,
# batch 8 (C.batch_size). Resizing per modality as the CEN protocol (RGB bicubic,
# depth nearest); test: full frames, as the base.
_base_ = ['../../../_base_/datasets/nyud_rgbd.py']
crop_size = (480, 640)
rgbd_data_preprocessor = dict(_base_.rgbd_data_preprocessor, size=crop_size)
# the base's training pipeline with the anchors' scale range and crop
train_pipeline = [
    *_base_.train_pipeline[:2],
    dict(_base_.train_pipeline[2], ratio_range=(0.5, 1.75)),
    dict(type='RandomCrop', crop_size=crop_size),
    *_base_.train_pipeline[4:],
]
train_dataloader = dict(batch_size=8, dataset=dict(pipeline=train_pipeline))
