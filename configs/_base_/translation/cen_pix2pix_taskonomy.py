# Everything of a paper config except its tasks (model, dataset, runtime, schedule).
_base_ = [
    './cen_pix2pix_unet256.py', './taskonomy_1k.py', './cen_pix2pix_runtime.py',
    './schedule_300k.py'
]
