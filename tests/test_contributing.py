"""The contributor's habits hold: one version, a changelog that names it,
and a pre-commit hook that runs the tests' ruff."""
import importlib.metadata
import os.path as osp
import re
import shutil
import subprocess
import sys

import yaml
from toolkit import ROOT

import nnclr_mm


def test_the_version_lives_in_one_place():
    # pyproject.toml reads nnclr_mm/version.py; the installed metadata
    # and the package agree, and no other file spells a version.
    assert importlib.metadata.version('nnclr_mm') == nnclr_mm.__version__
    pyproject = open(osp.join(ROOT, 'pyproject.toml')).read()
    assert "version = { attr = 'nnclr_mm.version.__version__' }" in pyproject
    assert not re.search(r"^version\s*=\s*['\"]", pyproject, re.M)


def test_the_changelog_s_newest_release_is_the_version():
    text = open(osp.join(ROOT, 'CHANGELOG.md')).read()
    releases = re.findall(r'^## (\d+\.\d+\.\d+)', text, re.M)
    assert releases and releases[0] == nnclr_mm.__version__


def ruff_pins():
    config = yaml.safe_load(
        open(osp.join(ROOT, '.pre-commit-config.yaml')))
    hook, = [h for repo in config['repos'] for h in repo['hooks']
             if h['id'] == 'ruff']
    tests = re.search(r"'ruff==([\d.]+)'",
                      open(osp.join(ROOT, 'pyproject.toml')).read())
    return hook['additional_dependencies'], tests.group(1)


def test_the_hook_runs_the_tests_ruff():
    hook, tests = ruff_pins()
    assert hook == [f'ruff=={tests}']


def test_the_hook_refuses_what_ci_refuses(tmp_path):
    # A repository with the project's hook and ruff settings: a commit of
    # an unused import fails, naming the rule, as `ruff check .` in CI.
    for name in ('.pre-commit-config.yaml', 'pyproject.toml'):
        shutil.copy(osp.join(ROOT, name), tmp_path)
    (tmp_path / 'bad.py').write_text('import os\n')
    git = ['git', '-c', 'user.name=t', '-c', 'user.email=t@t']
    subprocess.run([*git, 'init', '-q'], cwd=tmp_path, check=True)
    subprocess.run([*git, 'add', '.'], cwd=tmp_path, check=True)
    run = subprocess.run(
        [sys.executable, '-m', 'pre_commit', 'run', '--files', 'bad.py'],
        cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    assert 'F401' in run.stdout
    (tmp_path / 'bad.py').write_text('import os\n\nprint(os.sep)\n')
    run = subprocess.run(
        [sys.executable, '-m', 'pre_commit', 'run', '--files', 'bad.py'],
        cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr
