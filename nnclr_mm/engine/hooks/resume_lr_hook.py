import math
from typing import List

from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.optim import OptimWrapper

from ...registry import HOOKS


def _initial_lrs(param_groups: List[dict]) -> List[float]:
    """The learning rate each group started from (before any schedule)."""
    return [group.get('initial_lr', group['lr']) for group in param_groups]


@HOOKS.register_module()
class ResumeLRHook(Hook):
    """A resumed run trains with the learning rate of its own config.

    mmengine restores the optimizer's and the schedulers' state on resume,
    learning rates included, so a learning rate changed for the resumed
    run (``--cfg-options optim_wrapper.optimizer.lr=...``, as one does
    after a divergence, or ``--auto-scale-lr`` on another number of GPUs)
    is silently replaced by the checkpoint's. This hook compares each
    parameter group's starting learning rate in the checkpoint with this
    run's, and where they differ rescales the restored learning rates
    (the optimizer's current and initial ones, the learning-rate
    schedulers' base and last values) by this run's over the checkpoint's,
    with one line saying so. The schedule keeps its shape and position. A
    resume with an unchanged config changes nothing.
    """

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        saved = checkpoint.get('optimizer', {})
        if (not isinstance(runner.optim_wrapper, OptimWrapper)
                or 'param_groups' not in saved):
            # Not training, no optimizer saved, or several optimizers.
            return
        optimizer = runner.optim_wrapper.optimizer
        # Not loaded yet: the groups are this run's, as configured.
        configured = _initial_lrs(optimizer.param_groups)
        restored = _initial_lrs(saved['param_groups'])
        if len(configured) != len(restored):
            return
        factors = [new / old if old else 1.0
                   for new, old in zip(configured, restored)]
        if all(math.isclose(f, 1.0, rel_tol=1e-9) for f in factors):
            return
        for group, factor in zip(saved['param_groups'], factors):
            group['lr'] *= factor
            if 'initial_lr' in group:
                group['initial_lr'] *= factor
        for scheduler in checkpoint.get('param_schedulers') or []:
            if scheduler.get('param_name') != 'lr':
                continue
            for key in ('base_values', '_last_value'):
                if key in scheduler:
                    scheduler[key] = [
                        value * factor
                        for value, factor in zip(scheduler[key], factors)]
        print_log(
            f'resuming with the learning rate of this config: the '
            f'checkpoint\'s groups started from {restored}, this run\'s '
            f'from {configured}; the restored learning rates and schedule '
            'are rescaled to match', logger='current')
