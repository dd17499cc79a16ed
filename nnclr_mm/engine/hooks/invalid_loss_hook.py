import math
import os.path as osp
import shlex
import sys
from typing import Iterator, List, Optional, Tuple

import torch
from mmengine.hooks import Hook

from ..._validation import check_positive
from ...registry import HOOKS
from ..checkpoint_io import recorded_checkpoint

#: The message hub's record of the weights' norm at the start of the run.
_START_NORM = 'param_norm_start'


def _tensors(tree, prefix: str) -> Iterator[Tuple[str, torch.Tensor]]:
    """Every floating-point tensor of a nested dict/list, with its key."""
    if torch.is_tensor(tree):
        if tree.is_floating_point():
            yield prefix, tree
    elif isinstance(tree, dict):
        for key, value in tree.items():
            yield from _tensors(value, f'{prefix}.{key}')
    elif isinstance(tree, (list, tuple)):
        for index, value in enumerate(tree):
            yield from _tensors(value, f'{prefix}[{index}]')


def _parameter_norm(model: torch.nn.Module) -> float:
    """The L2 norm of all of ``model``'s floating-point parameters."""
    squares = [p.detach().float().pow(2).sum() for p in model.parameters()
               if p.is_floating_point()]
    return math.sqrt(float(torch.stack(squares).sum())) if squares else 0.0


def resume_command(argv: List[str], checkpoint: str, lr: float) -> str:
    """``argv`` (this process's command line) as a command that resumes
    from ``checkpoint`` with the optimizer's learning rate set to ``lr``.

    Args:
        argv (list[str]): ``sys.argv`` of the training process.
        checkpoint (str): The checkpoint to resume from.
        lr (float): The learning rate for ``optim_wrapper.optimizer.lr``.

    Examples:
        >>> resume_command(['tools/train.py', 'c.py', '--resume',
        ...                 '--cfg-options', 'optim_wrapper.optimizer.lr=3'],
        ...                'w/iter_2.pth', 0.3)
        'python tools/train.py c.py --resume w/iter_2.pth --cfg-options optim_wrapper.optimizer.lr=0.3'
    """  # noqa: E501
    args, rest = [], list(argv[1:])
    while rest:
        arg = rest.pop(0)
        if arg == '--resume':
            if rest and not rest[0].startswith('-') and osp.isfile(rest[0]):
                rest.pop(0)
            continue
        if not arg.startswith(('--resume=', 'optim_wrapper.optimizer.lr=')):
            args.append(arg)
    # Drop a --cfg-options left empty.
    args = [a for i, a in enumerate(args) if a != '--cfg-options' or (
        i + 1 < len(args) and not args[i + 1].startswith('-'))]
    program = (['python', argv[0]] if argv[0].endswith('.py') else
               [osp.basename(argv[0])])
    return shlex.join(program + args + [
        '--resume', checkpoint, '--cfg-options',
        f'optim_wrapper.optimizer.lr={lr:g}'])


@HOOKS.register_module()
class InvalidLossHook(Hook):
    """Stop training at the first NaN or infinite loss or state, or at
    exploded weights, never write a checkpoint that holds one, and print
    the command that resumes from the last healthy checkpoint with a lower
    learning rate.

    mmengine 0.10 has no loss check (mmcv 1.x had ``CheckInvalidLossHook``).
    After every iteration, before ``CheckpointHook`` runs, the loss must be
    finite; before any checkpoint is written, so must every weight, buffer
    (BN statistics, the support set) and optimizer state tensor it holds,
    and the norm of the weights must stay within ``max_growth`` times its
    value at the start of the run: a step can overflow the weights while
    its loss was still finite, and a diverging run's weights grow by orders
    of magnitude while finite. Either failure raises
    ``FloatingPointError`` naming the iteration, what failed, and the last
    checkpoint written before it, which therefore passed the same checks;
    for a process started from a command line it ends with that command,
    resuming from that checkpoint with a tenth of the learning rate, which
    ``ResumeLRHook`` puts in effect.

    Args:
        max_growth (float): How many times its starting norm the weights'
            norm may reach. Defaults to 1000.
    """

    priority = 'ABOVE_NORMAL'  # before CheckpointHook (VERY_LOW)

    def __init__(self, max_growth: float = 1000.) -> None:
        check_positive('InvalidLossHook', 'max_growth', max_growth)
        self.max_growth = max_growth

    def before_train(self, runner) -> None:
        # Resumed runs keep the first run's reference (message hub).
        if runner.message_hub.get_info(_START_NORM) is None:
            runner.message_hub.update_info(
                _START_NORM, _parameter_norm(runner.model))

    def after_train_iter(self,
                         runner,
                         batch_idx: int,
                         data_batch: Optional[dict] = None,
                         outputs: Optional[dict] = None) -> None:
        loss = (outputs or {}).get('loss')
        if loss is None:
            return
        loss = float(loss.detach()) if torch.is_tensor(loss) else float(loss)
        if not math.isfinite(loss):
            self._stop(runner, f'loss is {loss}', runner.iter + 1,
                       runner.epoch + 1)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        # The meta says where the checkpoint stands, whichever hook and
        # loop stage saves it.
        meta = checkpoint.get('meta', {})
        where = meta.get('iter', runner.iter), meta.get('epoch', runner.epoch)
        for section in ('state_dict', 'optimizer'):
            for key, tensor in _tensors(checkpoint.get(section), section):
                if not torch.isfinite(tensor).all():
                    self._stop(
                        runner, f'{key} is not finite (the checkpoint is not '
                        'written)', *where)
        start = runner.message_hub.get_info(_START_NORM)
        norm = _parameter_norm(runner.model)
        if start and norm > self.max_growth * start:
            self._stop(
                runner, f'the weights exploded: their norm is {norm:.3g}, '
                f'{norm / start:.3g} times its {start:.3g} at the start '
                f'(InvalidLossHook max_growth={self.max_growth:g}; the '
                'checkpoint is not written)', *where)

    @staticmethod
    def _stop(runner, what: str, iteration: int, epoch: int) -> None:
        # last_checkpoint is written only after a complete, checked save.
        last, _ = recorded_checkpoint(runner.work_dir)
        if not last:
            where = 'no checkpoint was saved before it'
        else:
            where = (f'the last checkpoint before it is {last}; resume with '
                     f'--resume {last} and a lower learning rate')
            lr = runner.cfg.get('optim_wrapper', {}).get(
                'optimizer', {}).get('lr')
            if isinstance(lr, (int, float)) and runner.distributed:
                where += (', e.g. add to your launch command: --resume '
                          f'{last} --cfg-options optim_wrapper.optimizer.'
                          f'lr={lr / 10:g}')
            elif isinstance(lr, (int, float)):
                where += (', e.g.:\n  '
                          f'{resume_command(sys.argv, last, lr / 10)}')
        raise FloatingPointError(
            f'{what} at iteration {iteration} (epoch {epoch}): training '
            f'stopped; {where}')
