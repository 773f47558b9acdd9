_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 4 (multimodal fusion), rgb + normal -> reshading. Paper (CEN ensemble):
# MAE 11.03 / MSE 17.16.
tasks = [
    dict(inputs=['rgb', 'normal'], target='reshading'),
]
model = dict(tasks=tasks)
