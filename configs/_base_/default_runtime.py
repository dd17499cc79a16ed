# Runtime of the plugin's configs: mmpretrain's defaults, curves in
# work_dir/*/vis_data/scalars.json (tools/analysis_tools/plot_curves.py),
# and the hooks that keep a run exact and safe for any SSL method.
_base_ = ['./safety_hooks.py']

# The plugin's registries; mmpretrain's and mmengine's components resolve
# through their parents (nnclr_mm/registry.py).
default_scope = 'nnclr_mm'

default_hooks = dict(
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=10),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=2),
    sampler_seed=dict(type='DistSamplerSeedHook'),
)
env_cfg = dict(
    cudnn_benchmark=True,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    dist_cfg=dict(backend='nccl'),
)
custom_hooks = _base_.safety_hooks
visualizer = dict(type='UniversalVisualizer',
                  vis_backends=[dict(type='LocalVisBackend')])
log_level = 'INFO'
load_from = None
resume = False
randomness = dict(seed=0, deterministic=False)
