"""The ``Examples:`` in the package's docstrings run and print what they
say."""
import doctest
import importlib
import pkgutil

import pytest

import nnclr_mm

MODULES = sorted(
    info.name
    for info in pkgutil.walk_packages(nnclr_mm.__path__, 'nnclr_mm.'))


def test_some_modules_have_examples():
    finder = doctest.DocTestFinder()
    with_examples = [
        name for name in MODULES
        if any(t.examples for t in finder.find(importlib.import_module(name)))
    ]
    assert 'nnclr_mm.models.heads.nnclr_head' in with_examples


@pytest.mark.parametrize('name', MODULES)
def test_examples_run(name):
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS)
    assert result.failed == 0, name
