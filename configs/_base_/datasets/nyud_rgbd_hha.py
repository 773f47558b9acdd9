# NYUDv2 with HHA instead of raw depth as the second modality: RGB (3) + HHA (3).
# Prepare: convert (tools/dataset_converters/nyudv2_official.py or nyud.py), then
#   python tools/dataset_converters/depth2hha.py data/nyudv2
# Same as nyud_rgbd.py with the HHA pipelines of rgbd_seg_common_hha.py. A model config
# uses it by replacing nyud_rgbd.py with this file in its _base_ (backbone in_channels =
# rgbd_modality_channels = (3, 3)).
_base_ = ['./rgbd_seg_common_hha.py']
dataset_type = 'NYUDv2Dataset'
data_root = 'data/nyudv2'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
