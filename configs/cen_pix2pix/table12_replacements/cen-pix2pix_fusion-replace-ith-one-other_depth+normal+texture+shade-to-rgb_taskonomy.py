_base_ = ['../cen-pix2pix_fusion_depth+normal+texture+shade-to-rgb_taskonomy.py']

# TPAMI'23 Table 12 (appendix; exchange replacements), row "The i-th channel from
# another one modality m' != m (m' = m + 1 mod M)", column Depth+Normal+Texture+Shade ->
# RGB. Paper (ensemble FID / KID x100): 62.76 / 1.69 (the paper's CEN row, the average
# of the i-th channels of the other modalities: 57.19 / 1.33,
# ../cen-pix2pix_fusion_depth+normal+texture+shade-to-rgb_taskonomy.py). The paper's
# caption says NYUDv2/RefineNet, its columns are this Taskonomy translation to RGB.
# Deviations: none known; Fig. 10 leaves the channel regions open, our reading is in
# cen_mm/core/exchange_replacements.py and docs/paper_grid.md.
model = dict(generator=dict(exchange_replacement=dict(type='ith_one_other', offset=1)))
