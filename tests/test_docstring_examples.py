"""The ``Examples:`` in the package's docstrings run and print what they
say."""
import doctest
import importlib
import pkgutil

import pytest

import nnclr_mm

WITH_EXAMPLES = sorted(
    info.name
    for info in pkgutil.walk_packages(nnclr_mm.__path__, 'nnclr_mm.')
    if any(test.examples for test in doctest.DocTestFinder().find(
        importlib.import_module(info.name))))


def test_public_components_have_examples():
    assert {'nnclr_mm.models.heads.nnclr_head',
            'nnclr_mm.models.algorithms.nnbyol',
            'nnclr_mm.models.algorithms.nnsiam',
            'nnclr_mm.evaluation.linear_probe'} <= set(WITH_EXAMPLES)


@pytest.mark.parametrize('name', WITH_EXAMPLES)
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0, name
