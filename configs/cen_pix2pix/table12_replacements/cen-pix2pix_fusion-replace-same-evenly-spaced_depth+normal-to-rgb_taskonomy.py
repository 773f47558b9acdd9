_base_ = ['../cen-pix2pix_fusion_depth+normal-to-rgb_taskonomy.py']

# TPAMI'23 Table 12 (appendix; exchange replacements), row "Average of evenly spaced
# channels [a] (Fig. 10) (beyond sparsity constraints) from the same modality m", column
# Depth+Normal -> RGB. Paper (ensemble FID / KID x100): 106.62 / 5.29 (the paper's CEN
# row, the average of the i-th channels of the other modalities: 84.33 / 2.70,
# ../cen-pix2pix_fusion_depth+normal-to-rgb_taskonomy.py). The paper's caption says
# NYUDv2/RefineNet, its columns are this Taskonomy translation to RGB. Deviations: none
# known; Fig. 10 leaves the channel regions open, our reading is in
# cen_mm/core/exchange_replacements.py and docs/paper_grid.md.
model = dict(generator=dict(exchange_replacement=dict(type='same_evenly_spaced')))
