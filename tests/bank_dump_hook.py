"""Hooks for the launch tests: each rank saves its support set, and its
random-number generators as training starts."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model

from nnclr_mm.engine.hooks.rng_state_hook import generator_states


@HOOKS.register_module(force=True)
class BankDumpHook(Hook):
    """Save the bank of every rank at the start and end of training."""

    def _dump(self, runner, when):
        torch.save(
            get_ori_model(runner.model).memory_bank.state_dict(),
            osp.join(runner.work_dir, f'bank_{when}_rank{get_rank()}.pt'))

    def before_train(self, runner):
        self._dump(runner, 'start')

    def after_train(self, runner):
        self._dump(runner, 'end')


@HOOKS.register_module(force=True)
class RNGDumpHook(Hook):
    """Save every rank's generators as its first epoch starts, after
    RNGStateHook (VERY_LOW) has restored them on a resume."""

    priority = 'LOWEST'

    def __init__(self):
        self.done = False

    def before_train_epoch(self, runner):
        if not self.done:
            torch.save(generator_states(),
                       osp.join(runner.work_dir, f'rng_rank{get_rank()}.pt'))
            self.done = True
