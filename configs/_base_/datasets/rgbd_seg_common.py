# The RGB-D segmentation protocol shared by NYUDv2 (nyud_rgbd.py) and SUN RGB-D
# (sunrgbd_rgbd.py), which add their `dataset_type` and `data_root`. Settings follow the
# official CEN code (semantic_segmentation/config.py, main.py; it ships NYUDv2 settings
# only, used for SUN RGB-D as well): random scale 0.5-2.0 with a 350 px shorter-side
# floor (approximated here by a ratio range 0.75-2.0 of 640x480), pad + random 500x500
# crop, horizontal flip, batch 6, RGB normalised with the ImageNet mean/std and raw
# depth in metres (no mean or std). Full-resolution single-scale test (batch 1: images
# may differ in size); `tta_pipeline` for multi-scale + flip.
# Resizing as the official code (utils/transforms.py): RGB bicubic (clipped to 0..255,
# as the official uint8 images), depth *nearest* (holes stay holes, no interpolated
# depths at object borders), labels nearest; no photometric distortion.
# Option (cen_mm's pre-#17 default, not the papers'): bilinear resize of all channels
# plus RGB-only photometric distortion, in a child config:
#   train_dataloader = dict(dataset=dict(pipeline=_base_.jitter_train_pipeline))
# A child config that changes `depth_type` to 'hha' must redefine the
# pipelines, dataloaders and `rgbd_data_preprocessor` (6 channels) as well
# (nyud_rgbd_hha.py, sunrgbd_rgbd_hha.py).
depth_type = 'depth'  # or 'hha' if the conversion has hha/
crop_size = (500, 500)

# For the model: stacked input = RGB (3) + depth (1), see LoadRGBDFromFile.
rgbd_modality_channels = (3, 1)
rgbd_data_preprocessor = dict(
    type='SegDataPreProcessor',
    mean=[123.675, 116.28, 103.53, 0.0],
    std=[58.395, 57.12, 57.375, 1.0],
    bgr_to_rgb=False,  # LoadRGBDFromFile already loads RGB in RGB order
    pad_val=0,
    seg_pad_val=255,
    size=crop_size)
rgbd_meta_keys = ('img_path', 'depth_path', 'seg_map_path', 'ori_shape', 'img_shape',
                  'pad_shape', 'scale_factor', 'flip', 'flip_direction',
                  'reduce_zero_label', 'modality_channels')

# one interpolation per modality (RGB, depth), as the official code
modality_interpolations = ('bicubic', 'nearest')
modality_value_ranges = ((0, 255), None)
train_pipeline = [
    dict(type='LoadRGBDFromFile', depth_type=depth_type, hole_mode='keep'),
    dict(type='LoadRGBDAnnotations'),
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.75, 2.0),
         keep_ratio=True, resize_type='ModalityResize',
         interpolations=modality_interpolations, value_ranges=modality_value_ranges),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackSegInputs', meta_keys=rgbd_meta_keys),
]
# Option, not the papers' protocol: one bilinear resize for all channels (depth values
# blend across holes and borders) and RGB-only photometric distortion.
jitter_train_pipeline = [
    dict(type='LoadRGBDFromFile', depth_type=depth_type, hole_mode='keep'),
    dict(type='LoadRGBDAnnotations'),
    dict(type='RandomResize', scale=(640, 480), ratio_range=(0.75, 2.0),
         keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size),
    dict(type='RandomFlip', prob=0.5),
    dict(type='RGBOnlyPhotoMetricDistortion'),
    dict(type='PackSegInputs', meta_keys=rgbd_meta_keys),
]
test_pipeline = [
    dict(type='LoadRGBDFromFile', depth_type=depth_type, hole_mode='keep'),
    dict(type='LoadRGBDAnnotations'),
    dict(type='PackSegInputs', meta_keys=rgbd_meta_keys),
]
img_ratios = [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
tta_pipeline = [
    dict(type='LoadRGBDFromFile', depth_type=depth_type, hole_mode='keep'),
    dict(type='TestTimeAug',
         transforms=[
             [dict(type='ModalityResize', scale_factor=r, keep_ratio=True,
                   interpolations=modality_interpolations,
                   value_ranges=modality_value_ranges) for r in img_ratios],
             [dict(type='RandomFlip', prob=0., direction='horizontal'),
              dict(type='RandomFlip', prob=1., direction='horizontal')],
             [dict(type='LoadRGBDAnnotations')],
             [dict(type='PackSegInputs', meta_keys=rgbd_meta_keys)],
         ])
]


def _split(split, pipeline, test_mode=False):
    return dict(depth_type=depth_type,
                data_prefix=dict(img_path=f'images/{split}',
                                 depth_path=f'{depth_type}/{split}',
                                 seg_map_path=f'annotations/{split}'),
                pipeline=pipeline, test_mode=test_mode)


train_dataloader = dict(
    batch_size=6,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=_split('train', train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=_split('test', test_pipeline, test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])  # also reports mAcc, aAcc
test_evaluator = val_evaluator
del _split
