_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 4 (multimodal fusion), rgb + reshading -> normal. Paper (CEN ensemble):
# MAE 11.23 / MSE 25.09.
tasks = [
    dict(inputs=['rgb', 'reshading'], target='normal'),
]
model = dict(tasks=tasks)
