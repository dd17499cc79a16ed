"""A hook for the launch tests: each rank saves its support set."""
import os.path as osp

import torch
from mmengine.dist import get_rank
from mmengine.hooks import Hook
from mmpretrain.registry import HOOKS
from mmpretrain.utils import get_ori_model


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
