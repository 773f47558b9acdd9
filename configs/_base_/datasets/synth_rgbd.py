# Procedural RGB-D demo set (cen_mm.seg.datasets.SynthRGBDDataset): rendered in code
# from a seed, no files. 5 classes: background, red box / blue box (differ only in
# colour), green bump / green dent (differ only in depth); lighting changes on RGB,
# noise and holes on depth. Samples enter the pipeline already loaded (stacked RGB +
# depth float32 H x W x 4), so only the geometric/packing transforms follow.
dataset_type = 'SynthRGBDDataset'
# 48 px keeps a CEN-RefineNet-R18 demo within minutes on 2 CPU cores. To change it,
# override train/val_dataloader.dataset.image_size, crop_size and
# rgbd_data_preprocessor.size (they are computed from this value here).
synth_image_size = 48
crop_size = (synth_image_size, synth_image_size)

rgbd_modality_channels = (3, 1)
# Mean/std measured on the training scenes (RGB 0..255, depth in metres incl. holes);
# tests/test_seg/test_datasets/test_synth_rgbd.py re-measures them.
rgbd_data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[104.0, 105.2, 103.8, 2.60],
    std=[50.0, 44.9, 50.4, 1.00],
    bgr_to_rgb=False,
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
rgbd_meta_keys = ('img_path', 'ori_shape', 'img_shape', 'pad_shape', 'scale_factor',
                  'flip', 'flip_direction', 'reduce_zero_label', 'modality_channels')

train_pipeline = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys=rgbd_meta_keys),
]
test_pipeline = [dict(type='PackSegInputs', meta_keys=rgbd_meta_keys)]

train_dataloader = dict(
    batch_size=8,
    num_workers=0,  # rendering costs ~2 ms per sample; workers would only add copies
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, split='train', num_samples=512,
                 image_size=synth_image_size, seed=0, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=16,
    num_workers=0,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type=dataset_type, split='val', num_samples=128,
                 image_size=synth_image_size, seed=0, pipeline=test_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
test_evaluator = val_evaluator
