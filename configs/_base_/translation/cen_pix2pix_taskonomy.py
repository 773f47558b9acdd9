# Everything of a paper config except the tasks/domains.
_base_ = [
    './cen_pix2pix_unet256.py', './taskonomy_1k.py', './cen_pix2pix_runtime.py'
]
