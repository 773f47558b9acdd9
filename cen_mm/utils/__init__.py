from .launch import (apply_data_root, apply_resume, build_runner, enable_amp,
                     enable_auto_scale_lr, prepare_work_dir, setup_distributed,
                     teardown_distributed)
from .registration import register_all_modules

__all__ = [
    'apply_data_root', 'apply_resume', 'build_runner', 'enable_amp',
    'enable_auto_scale_lr', 'prepare_work_dir', 'setup_distributed',
    'teardown_distributed',
    'register_all_modules'
]
