"""A training set too small for one batch, named before anything trains.

mmengine <= 0.10.7 builds the training loop without looking at its data:
with ``drop_last=True`` a dataset smaller than one batch gives epochs of no
iteration, reported as ``epoch_length must be a positive integer, but got
0`` by the scheduler or not at all, and an infinite sampler silently fills
each batch with repeats, which contrastive losses then take as negatives.
The fix checks the built training loader once and names the keys to change.
"""
import functools
import math
from typing import Callable

from ._patching import is_wrapper, mark_wrapper, mmengine_at_most

#: The newest mmengine release that builds training loops unchecked.
LAST_BROKEN_MMENGINE = '0.10.7'


def needed() -> bool:
    """Whether mmengine is a release that does not check the data size."""
    return mmengine_at_most(LAST_BROKEN_MMENGINE)


def check_train_loader(loader, world_size: int) -> None:
    """Raise if ``loader`` cannot fill one batch per process with distinct
    samples.

    Args:
        loader (DataLoader): The built training loader.
        world_size (int): Number of training processes.

    Raises:
        ValueError: Naming the dataset size, ``train_dataloader.batch_size``
            and the sampler, with what to change.
    """
    from mmengine.dataset import InfiniteSampler
    batch = loader.batch_size
    if batch is None or not hasattr(loader.dataset, '__len__'):
        return
    size = len(loader.dataset)
    per_process = math.ceil(size / world_size)
    where = (f'train_dataloader.dataset has {size} samples for '
             f'{world_size} process(es), {per_process} each, and '
             f'train_dataloader.batch_size is {batch}')
    if isinstance(loader.sampler, InfiniteSampler) and per_process < batch:
        raise ValueError(
            f'{where}: the infinite sampler would fill every batch with '
            'repeated samples (a contrastive loss takes them as negatives). '
            'Use more data or a smaller train_dataloader.batch_size.')
    if loader.drop_last and per_process < batch:
        raise ValueError(
            f'{where}: with drop_last=True an epoch has no iteration. Use '
            'more data or a smaller train_dataloader.batch_size.')


def _checked(build_train_loop: Callable) -> Callable:
    """Wrap ``Runner.build_train_loop`` to check the loop's loader."""

    @functools.wraps(build_train_loop)
    def wrapper(self, loop):
        from mmengine.dist import get_world_size
        built = build_train_loop(self, loop)
        loader = getattr(built, 'dataloader', None)
        if loader is not None:
            check_train_loader(loader, get_world_size())
        return built

    return mark_wrapper(wrapper)


def check_train_data_size() -> None:
    """Check every training loop's data when the runner builds it."""
    from mmengine.runner import Runner
    build = Runner.__dict__['build_train_loop']
    if not is_wrapper(build):
        Runner.build_train_loop = _checked(build)
