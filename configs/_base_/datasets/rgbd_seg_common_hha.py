# HHA instead of raw depth as the second modality: RGB (3) + HHA (3), for NYUDv2
# (nyud_rgbd_hha.py) and SUN RGB-D (sunrgbd_rgbd_hha.py). Same pipelines as
# rgbd_seg_common.py, loading hha/ (8-bit: disparity, height, angle) instead of depth/;
# HHA is normalised like RGB (ImageNet mean/std). Backbone in_channels =
# rgbd_modality_channels = (3, 3).
_base_ = ['./rgbd_seg_common.py']
depth_type = 'hha'
rgbd_modality_channels = (3, 3)
rgbd_data_preprocessor = dict(
    mean=[123.675, 116.28, 103.53, 123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375, 58.395, 57.12, 57.375])


def _hha(pipeline):
    return [dict(step, depth_type='hha') if step['type'] == 'LoadRGBDFromFile' else step
            for step in pipeline]


train_pipeline = _hha(_base_.train_pipeline)
test_pipeline = _hha(_base_.test_pipeline)
tta_pipeline = _hha(_base_.tta_pipeline)
jitter_train_pipeline = _hha(_base_.jitter_train_pipeline)  # option, see the base


def _split(split, pipeline):
    return dict(depth_type='hha', pipeline=pipeline,
                data_prefix=dict(img_path=f'images/{split}', depth_path=f'hha/{split}',
                                 seg_map_path=f'annotations/{split}'))


train_dataloader = dict(dataset=_split('train', train_pipeline))
val_dataloader = dict(dataset=_split('test', test_pipeline))
test_dataloader = val_dataloader
del _hha, _split
