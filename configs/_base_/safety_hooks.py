# The plugin and the hooks that keep a run exact and safe for any SSL method.
# default_runtime.py uses them; a recipe that inherits a whole mmpretrain
# recipe (its runtime included) adds them with *_base_.safety_hooks.
custom_imports = dict(imports=['nnclr_mm'], allow_failed_imports=False)
safety_hooks = [
    dict(type='RNGStateHook'),  # exact --resume
    dict(type='ResumeLRHook'),  # --resume takes the config's lr
    dict(type='InvalidLossHook'),  # stop at a NaN/inf loss or explosion
    dict(type='PreemptionCheckpointHook'),  # checkpoint on SIGTERM
]
