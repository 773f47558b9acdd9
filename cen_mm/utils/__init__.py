from .launch import apply_resume, enable_amp, enable_auto_scale_lr, setup_distributed

__all__ = ['apply_resume', 'enable_amp', 'enable_auto_scale_lr', 'setup_distributed']
