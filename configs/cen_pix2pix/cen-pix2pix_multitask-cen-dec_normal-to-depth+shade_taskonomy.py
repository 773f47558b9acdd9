_base_ = ['../_base_/translation/cen_pix2pix_taskonomy.py']

# TPAMI'23 Table 7, multitask CEN-dec (IN x2, enc x1, dec x2): normal ->
# depth_euclidean, reshading. Shared encoder convs with private INs per task, one
# decoder per task, channel exchange between the task decoders after every decoder IN.
tasks = [
    dict(inputs=['normal'], target='depth_euclidean'),
    dict(inputs=['normal'], target='reshading'),
]
model = dict(
    tasks=tasks,
    generator=dict(separate_decoders=True, decoder_exchange=True))
