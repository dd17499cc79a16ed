"""Runners for the scripts in ``tools/``, built as mmpretrain's tools
build them."""
from mmengine.config import Config
from mmengine.registry import RUNNERS
from mmengine.runner import Runner


def build_runner(cfg: Config) -> Runner:
    """The config's ``runner_type``, or mmengine's :class:`Runner`.

    Args:
        cfg (Config): A full runner config.

    Returns:
        Runner: The runner, built but not started.
    """
    if 'runner_type' in cfg:
        return RUNNERS.build(cfg)
    return Runner.from_cfg(cfg)


def runner_with_checkpoint(cfg: Config, checkpoint: str) -> Runner:
    """A runner for ``cfg`` whose model holds ``checkpoint``, in eval mode.

    Args:
        cfg (Config): A full runner config that itself loads and resumes
            nothing (see :func:`nnclr_mm.cli.config_for_checkpoint`).
        checkpoint (str): The checkpoint file.

    Returns:
        Runner: The runner, its model loaded strictly from the checkpoint.
    """
    runner = build_runner(cfg)
    runner.load_checkpoint(checkpoint, map_location='cpu', strict=True)
    runner.model.eval()
    return runner
