"""nnclr_mm's registries: the scope ``nnclr_mm``, one child of each of
mmpretrain's registries (and of mmengine's that mmpretrain has none of).

A config with ``default_scope='nnclr_mm'`` (the plugin's configs) builds
the plugin's components from here and everything else from mmpretrain and
mmengine through the parents, without a fallback. The plugin's components
are also added to mmpretrain's registries (:func:`add_to_mmpretrain`), so a
config in mmpretrain's scope with ``custom_imports=dict(imports=
['nnclr_mm'])`` finds ``NNCLR``, ``NNBYOL``, ``NNSiam``, their neck, head,
loss, support set, hooks and loops by name too.

Examples:
    >>> import nnclr_mm
    >>> from nnclr_mm.registry import MODELS
    >>> MODELS.scope, MODELS.parent.scope
    ('nnclr_mm', 'mmpretrain')
    >>> MODELS.get('ResNet').__module__  # mmpretrain's, through the parent
    'mmpretrain.models.backbones.resnet'
"""
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import INFERENCERS as MMENGINE_INFERENCERS
from mmengine.registry import STRATEGIES as MMENGINE_STRATEGIES
from mmengine.registry import Registry
from mmpretrain import registry as mmpretrain

__all__ = [
    'BATCH_AUGMENTS', 'DATASETS', 'DATA_SAMPLERS', 'EVALUATORS', 'FUNCTIONS',
    'HOOKS', 'INFERENCERS', 'LOG_PROCESSORS', 'LOOPS', 'METRICS', 'MODELS',
    'MODEL_WRAPPERS', 'OPTIMIZERS', 'OPTIM_WRAPPERS',
    'OPTIM_WRAPPER_CONSTRUCTORS', 'PARAM_SCHEDULERS', 'RUNNERS',
    'RUNNER_CONSTRUCTORS', 'STRATEGIES', 'TASK_UTILS', 'TOKENIZER',
    'TRANSFORMS', 'VISBACKENDS', 'VISUALIZERS', 'WEIGHT_INITIALIZERS',
    'add_to_mmpretrain'
]


def _child(parent: Registry) -> Registry:
    # Importing the package registers every component (and mmengine imports
    # a scope's `utils.register_all_modules` for a registry without one).
    # A lookup through a parent does not import the parent's modules: the
    # child imports them too (mmpretrain.visualization, ...).
    return Registry(parent.name, parent=parent,
                    locations=['nnclr_mm', *parent._locations])


RUNNERS = _child(mmpretrain.RUNNERS)
RUNNER_CONSTRUCTORS = _child(mmpretrain.RUNNER_CONSTRUCTORS)
LOOPS = _child(mmpretrain.LOOPS)
HOOKS = _child(mmpretrain.HOOKS)
LOG_PROCESSORS = _child(mmpretrain.LOG_PROCESSORS)
OPTIMIZERS = _child(mmpretrain.OPTIMIZERS)
OPTIM_WRAPPERS = _child(mmpretrain.OPTIM_WRAPPERS)
OPTIM_WRAPPER_CONSTRUCTORS = _child(mmpretrain.OPTIM_WRAPPER_CONSTRUCTORS)
PARAM_SCHEDULERS = _child(mmpretrain.PARAM_SCHEDULERS)
DATASETS = _child(mmpretrain.DATASETS)
DATA_SAMPLERS = _child(mmpretrain.DATA_SAMPLERS)
TRANSFORMS = _child(mmpretrain.TRANSFORMS)
MODELS = _child(mmpretrain.MODELS)
MODEL_WRAPPERS = _child(mmpretrain.MODEL_WRAPPERS)
WEIGHT_INITIALIZERS = _child(mmpretrain.WEIGHT_INITIALIZERS)
BATCH_AUGMENTS = _child(mmpretrain.BATCH_AUGMENTS)
TASK_UTILS = _child(mmpretrain.TASK_UTILS)
TOKENIZER = _child(mmpretrain.TOKENIZER)
METRICS = _child(mmpretrain.METRICS)
EVALUATORS = _child(mmpretrain.EVALUATORS)
VISUALIZERS = _child(mmpretrain.VISUALIZERS)
VISBACKENDS = _child(mmpretrain.VISBACKENDS)
# mmpretrain has none of these: mmengine's are the parents.
FUNCTIONS = _child(MMENGINE_FUNCTIONS)
INFERENCERS = _child(MMENGINE_INFERENCERS)
STRATEGIES = _child(MMENGINE_STRATEGIES)


def add_to_mmpretrain() -> None:
    """Register every component of the plugin in mmpretrain's registry of
    its kind as well, under the same name. Safe to call more than once."""
    for registry in (MODELS, HOOKS, LOOPS, DATASETS, TRANSFORMS):
        for name, module in registry.module_dict.items():
            if registry.parent.module_dict.get(name) is not module:
                registry.parent.register_module(name=name, module=module)
