"""Hooks the GPU acceptance checks (tools/gpu/checks.py) add to a run
through ``custom_imports``: they write what a check compares, nothing
else."""
import json
import os
import os.path as osp
import signal

import torch
import torch.distributed as torch_dist
from mmengine.dist import get_rank, get_world_size
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from nnclr_mm.engine.hooks.rng_state_hook import (
    call_at_epoch_start,
    generator_states,
)


@HOOKS.register_module()
class ResumedStateDumpHook(Hook):
    """After a resume, once ``RNGStateHook`` has restored the generators
    (as the first epoch starts, or mid-epoch when its first index is
    drawn), write the run's state to ``work_dir/resumed_state.pth``:
    weights and buffers (the support set), optimizer with loss scaler, and
    generators."""

    priority = 'LOWEST'

    def __init__(self) -> None:
        self.first_epoch = True

    def before_train_epoch(self, runner) -> None:
        first, self.first_epoch = self.first_epoch, False
        if not first or runner.iter == 0:  # later epochs, or a fresh start
            return
        loop = runner.train_loop
        if getattr(loop, 'resumed_batches', 0):
            # Mid-epoch, RNGStateHook restores as the epoch starts: after.
            call_at_epoch_start(loop.dataloader.batch_sampler,
                                lambda: self._dump(runner), after=True)
        else:
            self._dump(runner)

    @staticmethod
    def _dump(runner) -> None:
        state = dict(
            state_dict={k: v.detach().cpu() for k, v in
                        get_ori_model(runner.model).state_dict().items()},
            optimizer=runner.optim_wrapper.state_dict(),
            rng=generator_states(),
            iter=runner.iter)
        torch.save(state, osp.join(runner.work_dir, 'resumed_state.pth'))


@HOOKS.register_module()
class StopAtIterationHook(Hook):
    """Send this process SIGTERM during iteration ``at`` (1-based), once:
    ``PreemptionCheckpointHook`` then saves ``iter_<at>.pth`` and exits."""

    def __init__(self, at: int) -> None:
        self.at = at

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if runner.iter + 1 == self.at:
            os.kill(os.getpid(), signal.SIGTERM)


@HOOKS.register_module()
class ModelReportHook(Hook):
    """As training starts, write ``work_dir/model_report.json``: the
    process group's backend and size, the device of the weights and the
    batch-norm layers by type (SyncBN converted or not)."""

    def before_train(self, runner) -> None:
        if get_rank() != 0:
            return
        model = get_ori_model(runner.model)
        norms = {}
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                name = type(module).__name__
                norms[name] = norms.get(name, 0) + 1
        report = dict(
            backend=(torch_dist.get_backend()
                     if torch_dist.is_initialized() else None),
            world_size=get_world_size(),
            device=str(next(model.parameters()).device),
            batch_norms=norms)
        with open(osp.join(runner.work_dir, 'model_report.json'), 'w') as f:
            json.dump(report, f)
