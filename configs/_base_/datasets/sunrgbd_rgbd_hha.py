# SUN RGB-D with HHA instead of raw depth as the second modality: RGB (3) + HHA (3).
# Prepare: convert (tools/dataset_converters/sunrgbd_official.py or sunrgbd.py), then
#   python tools/dataset_converters/depth2hha.py data/sunrgbd
# Same as sunrgbd_rgbd.py with the HHA pipelines of rgbd_seg_common_hha.py. A model
# config uses it by replacing sunrgbd_rgbd.py with this file in its _base_ (backbone
# in_channels = rgbd_modality_channels = (3, 3)).
_base_ = ['./rgbd_seg_common_hha.py']
dataset_type = 'SUNRGBDDataset'
data_root = 'data/sunrgbd'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
