# NYUDv2 RGB-D semantic segmentation, 40 classes (795 train / 654 test).
# Prepare the data with: python tools/dataset_converters/nyud.py SRC -o data/nyudv2
# Pipelines, dataloaders, preprocessing and evaluation: rgbd_seg_common.py (the
# official CEN code's NYUDv2 settings, resizing as its utils/transforms.py).
_base_ = ['./rgbd_seg_common.py']
dataset_type = 'NYUDv2Dataset'
data_root = 'data/nyudv2'

train_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
val_dataloader = dict(dataset=dict(type=dataset_type, data_root=data_root))
test_dataloader = val_dataloader
