from .amp_optim_wrapper import CPUAmpOptimWrapper
from .layer_decay_constructor import MultiStreamLayerDecayOptimizerConstructor

__all__ = ['CPUAmpOptimWrapper', 'MultiStreamLayerDecayOptimizerConstructor']
