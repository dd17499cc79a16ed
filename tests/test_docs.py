"""The README and the guide as a reader meets them: the site builds in
strict mode (a broken link, a missing page or an unknown anchor fails
it), the README's links lead somewhere, and every command in a ``bash``
block names a script or subcommand that exists, with options its parser
accepts and shipped configs that exist."""
import ast
import copy
import glob
import importlib
import importlib.util
import os
import os.path as osp
import re
import shlex
import shutil
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F
from toolkit import ROOT, guide_code

from nnclr_mm.cli import COMMANDS
from nnclr_mm.cli.common import resolve_config

#: Hand-written pages: the README, the guide and the configs' READMEs.
PAGES = sorted(
    osp.relpath(p, ROOT) for p in [
        osp.join(ROOT, 'README.md'), osp.join(ROOT, 'CONTRIBUTING.md'),
        *glob.glob(osp.join(ROOT, 'docs', '**', '*.md'), recursive=True),
        *glob.glob(osp.join(ROOT, 'configs', '*', 'README.md'))
    ] if not osp.relpath(p, ROOT).startswith(osp.join('docs', 'results')))


def mkdocs(*args, cwd=ROOT):
    return subprocess.run([sys.executable, '-m', 'mkdocs', *args], cwd=cwd,
                          capture_output=True, text=True)


def test_the_guide_builds_in_strict_mode(tmp_path):
    run = mkdocs('build', '--strict', '--site-dir', str(tmp_path / 'site'))
    assert run.returncode == 0, run.stderr[-4000:]
    assert (tmp_path / 'site' / 'index.html').is_file()


def test_strict_mode_fails_on_a_broken_link_and_an_unknown_anchor(tmp_path):
    # The check above bites: a copy of the guide with one page more that
    # links to a missing page and to a missing heading does not build.
    shutil.copy(osp.join(ROOT, 'mkdocs.yml'), tmp_path)
    shutil.copytree(osp.join(ROOT, 'docs'), tmp_path / 'docs')
    (tmp_path / 'docs' / 'broken.md').write_text(
        '# Broken\n\n[gone](no_such_page.md) and '
        '[nowhere](get_started.md#no-such-heading)\n')
    run = mkdocs('build', '--strict', '--site-dir', str(tmp_path / 'site'),
                 cwd=tmp_path)
    assert run.returncode != 0
    assert 'no_such_page.md' in run.stderr
    assert 'no-such-heading' in run.stderr


def slug(heading: str) -> str:
    """The anchor mkdocs (Python-Markdown's toc) gives a heading."""
    heading = re.sub(r'[`*]', '', heading).strip().lower()
    return re.sub(r'[\s]+', '-', re.sub(r'[^\w\s-]', '', heading))


def test_slug_matches_the_toc_extension():
    from markdown import Markdown
    md = Markdown(extensions=['toc'])
    md.convert('## Nothing lost: resume, preemption, bad input\n'
               '## `nnclr-mm test` and *kNN*\n')
    assert [t['id'] for t in md.toc_tokens] == [
        slug('Nothing lost: resume, preemption, bad input'),
        slug('`nnclr-mm test` and *kNN*')
    ]


def test_the_readme_links_lead_somewhere():
    text = open(osp.join(ROOT, 'README.md')).read()
    links = re.findall(r'\]\(([^)\s]+)\)', text)
    assert links
    for link in links:
        if re.match(r'[a-z]+://', link):
            continue
        path, _, anchor = link.partition('#')
        target = osp.join(ROOT, path) if path else osp.join(ROOT, 'README.md')
        assert osp.exists(target), f'README.md links to missing {path}'
        if anchor:
            headings = re.findall(r'^#+ (.+)$', open(target).read(), re.M)
            assert anchor in map(slug, headings), (
                f'README.md links to {link}: no such heading in {path}')


# Commands ------------------------------------------------------------------
def commands(page: str):
    """The command lines of a page's ``bash`` blocks, continuation lines
    joined, comments dropped, split at ``&&`` and ``;``."""
    text = open(osp.join(ROOT, page)).read()
    for block in re.findall(r'```(?:bash|sh|shell)\n(.*?)```', text, re.S):
        for line in block.replace('\\\n', ' ').splitlines():
            tokens = shlex.split(line, comments=True)
            command = []
            for token in tokens + [';']:
                if token in ('&&', ';', '||'):
                    if command:
                        yield command
                    command = []
                else:
                    command.append(token)


def documented_commands():
    found = [(page, cmd) for page in PAGES for cmd in commands(page)]
    return [pytest.param(cmd, id=f'{page}: {shlex.join(cmd)[:70]}')
            for page, cmd in found]


def script_module(script: str):
    """The module whose ``parse_args(argv)`` a ``tools/`` script runs: the
    command it is an entry point to, or the script itself."""
    path = osp.join(ROOT, script)
    assert osp.isfile(path), f'no such script: {script}'
    entry = re.search(r'from nnclr_mm\.cli\.(\w+) import main',
                      open(path).read())
    if entry:
        return importlib.import_module(f'nnclr_mm.cli.{entry.group(1)}')
    spec = importlib.util.spec_from_file_location(
        osp.splitext(osp.basename(script))[0], path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, osp.dirname(path))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(osp.dirname(path))
    return module


def check_parses(module, argv):
    """``module.parse_args(argv)`` accepts ``argv``, and a shipped config
    it names exists."""
    try:
        args = module.parse_args(argv)
    except SystemExit as exit:  # argparse: --help is 0, an error 2
        assert exit.code in (0, None), (
            f'{module.__name__} refuses {shlex.join(argv)}')
        return
    config = getattr(args, 'config', None)
    if config and config.startswith(('configs/', 'nnclr_mm::')):
        resolve_config(config)


def check_command(cmd):
    while cmd and re.match(r'^[A-Z_]+=', cmd[0]):  # VAR=value prefixes
        cmd = cmd[1:]
    program, args = cmd[0], cmd[1:]
    if program == 'nnclr-mm':
        if args[0] in ('-h', '--help', '--version'):
            return
        assert args[0] in COMMANDS, f'no command nnclr-mm {args[0]}'
        module = importlib.import_module(
            f'nnclr_mm.cli.{COMMANDS[args[0]][0]}')
        check_parses(module, args[1:])
    elif osp.basename(program).startswith('python') and \
            args[:2] == ['-m', 'pytest']:
        for path in (a.split('::')[0] for a in args if a.startswith('tests')):
            assert osp.exists(osp.join(ROOT, path)), f'no {path}'
    elif osp.basename(program).startswith('python') and args and \
            args[0].startswith('tools/'):
        module = script_module(args[0])
        if hasattr(module, 'parse_args'):
            check_parses(module, args[1:])
    elif program == 'bash' and args[0].startswith('tools/'):
        assert osp.isfile(osp.join(ROOT, args[0])), f'no {args[0]}'
        script = osp.basename(args[0])
        # The shell entry points pass these arguments on to train.
        train_args = {'dist_train.sh': lambda a: [a[0], *a[2:]],
                      'slurm_train.sh': lambda a: [a[2], '--work-dir', a[3],
                                                   *a[4:]],
                      'quickstart.sh': lambda a: ['configs/nnclr_r50.py',
                                                  *a]}.get(script)
        if train_args:
            check_parses(importlib.import_module('nnclr_mm.cli.train'),
                         train_args(args[1:]))
    elif program == 'mim' and args[0] in ('train', 'test'):
        assert args[1] == 'nnclr_mm', shlex.join(cmd)
        resolve_config(args[2])


@pytest.mark.parametrize('cmd', documented_commands())
def test_a_documented_command_is_accepted_as_typed(cmd):
    check_command(cmd)


def test_the_pages_show_the_commands():
    # The parametrisation above is not empty by accident.
    shown = {cmd[0] for _, cmd in
             ((p, c) for p in PAGES for c in commands(p))}
    assert {'nnclr-mm', 'bash', 'python'} <= shown


@pytest.mark.parametrize('command', sorted(COMMANDS))
def test_each_command_s_example_is_accepted(command):
    module = importlib.import_module(f'nnclr_mm.cli.{COMMANDS[command][0]}')
    cmd = shlex.split(module.EXAMPLE)
    assert cmd[:2] == ['nnclr-mm', command]
    check_parses(module, cmd[2:])


def test_a_wrong_option_is_caught():
    # The command check bites: a stale option and a missing config.
    with pytest.raises(AssertionError, match='refuses'):
        check_command(['nnclr-mm', 'test', 'configs/nnclr_r50.py', 'x.pth',
                       '--no-such-option'])
    with pytest.raises(FileNotFoundError, match='no_such_config'):
        check_command(['nnclr-mm', 'train', 'configs/no_such_config.py'])
    with pytest.raises(AssertionError, match='no such script'):
        check_command(['python', 'tools/benchmark.py'])
    with pytest.raises(AssertionError, match='no tests/test_gone.py'):
        check_command(['python', '-m', 'pytest', 'tests/test_gone.py'])


# The guide's code -----------------------------------------------------------
def tiny_mocov3(method, **kwargs):
    """A tiny MoCo v3 (ResNet-18, 32-d keys) of ``method``, seeded."""
    from mmengine.logging import MessageHub

    from nnclr_mm.registry import MODELS  # mmpretrain's models too
    MessageHub.get_current_instance().update_info('max_iters', 10)
    mlp = dict(type='NonLinearNeck', hid_channels=64, out_channels=32,
               num_layers=2, with_bias=False, with_last_bn=True,
               with_last_bn_affine=False, with_last_bias=False)
    torch.manual_seed(0)
    return MODELS.build(dict(
        type=method, base_momentum=0.01,
        backbone=dict(type='ResNet', depth=18, out_indices=(3, )),
        neck=dict(mlp, in_channels=512, with_avg_pool=True),
        head=dict(type='MoCoV3Head', temperature=0.2,
                  predictor=dict(mlp, in_channels=32, with_avg_pool=False),
                  loss=dict(type='CrossEntropyLoss', loss_weight=0.4)),
        **kwargs))


def test_the_guide_s_new_method_is_its_parent_during_the_warm_up(guide_method):
    parent = tiny_mocov3('MoCoV3')
    model = tiny_mocov3('NNMoCoV3', memory_bank=dict(
        type='NNMemoryBank', size=64, feat_dim=32))
    missing, unexpected = model.load_state_dict(parent.state_dict(),
                                                strict=False)
    assert all(k.startswith('memory_bank.') for k in missing)
    assert missing and not unexpected
    model.nn_positives = False  # NNMemoryBankHook's warm-up
    g = torch.Generator().manual_seed(1)
    views = [torch.randn(8, 3, 32, 32, generator=g) for _ in range(2)]
    expected = parent.loss(views, None)['loss']
    assert model.loss(views)['loss'].item() == pytest.approx(
        expected.item(), rel=1e-6)
    # The momentum keys of view 0 are what was enqueued.
    with torch.no_grad():
        keys = parent.momentum_encoder(views[0])[0]
    assert torch.allclose(model.memory_bank.bank[:8],
                          F.normalize(keys, dim=1),
                          atol=1e-6)


def test_the_guide_s_new_method_uses_the_nearest_keys(guide_method):
    model = tiny_mocov3('NNMoCoV3', memory_bank=dict(
        type='NNMemoryBank', size=64, feat_dim=32))
    g = torch.Generator().manual_seed(2)
    stored = F.normalize(torch.randn(40, 32, generator=g), dim=1)
    model.memory_bank.enqueue(stored)
    views = [torch.randn(8, 3, 32, 32, generator=g) for _ in range(2)]
    # By hand on a copy: online projections, updated momentum keys, the
    # nearest stored row of each key by brute force, MoCo v3's head.
    ref = copy.deepcopy(model)
    online = [ref.neck(ref.backbone(v))[0] for v in views]
    with torch.no_grad():
        ref.momentum_encoder.update_parameters(
            torch.nn.Sequential(ref.backbone, ref.neck))
        keys = torch.cat([ref.momentum_encoder(v)[0] for v in views])
    nearest = stored[(F.normalize(keys, dim=1) @ stored.T).argmax(1)]
    expected = (ref.head.loss(online[0], nearest[8:]) +
                ref.head.loss(online[1], nearest[:8]))
    assert model.loss(views)['loss'].item() == pytest.approx(
        expected.item(), rel=1e-5)


def test_every_python_block_of_the_guide_parses():
    pages = [p for p in PAGES if p.startswith('docs')]
    blocks = [(p, code) for p in pages
              for code in guide_code(osp.relpath(p, 'docs'))]
    assert len(blocks) >= 10
    for page, code in blocks:
        ast.parse(code, filename=page)


def test_the_guide_s_nnsiam_is_the_source_s():
    code, = guide_code('advanced/new_method.md',
                       '@MODELS.register_module()\nclass NNSiam(')
    source = open(osp.join(ROOT, 'nnclr_mm', 'models', 'algorithms',
                           'nnsiam.py')).read()

    def methods(text):
        """Each method's arguments and statements, without type hints and
        docstrings, by name."""
        cls, = [n for n in ast.walk(ast.parse(text))
                if isinstance(n, ast.ClassDef) and n.name == 'NNSiam']
        return {f.name: ([a.arg for a in f.args.args], [
            ast.dump(s) for s in f.body
            if not (isinstance(s, ast.Expr) and isinstance(
                s.value, ast.Constant))
        ]) for f in cls.body if isinstance(f, ast.FunctionDef)}

    shown, shipped = methods(code), methods(source)
    assert set(shown) == {'embed', 'loss_with_positives'}
    assert shown == {name: shipped[name] for name in shown}


def test_the_guide_s_own_nnclr_config_builds_in_mmpretrain_s_scope(
        tmp_path):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    code, = guide_code('user_guides/configs.md',
                       "default_scope = 'mmpretrain'")
    (tmp_path / 'mine.py').write_text(code)
    cfg = Config.fromfile(str(tmp_path / 'mine.py'))
    model = MODELS.build(cfg.model)
    assert type(model).__name__ == 'NNCLR'
    assert model.memory_bank.bank.shape == (98304, 256)
    assert model.neck.out_channels == 256


def test_the_guide_s_nnbyol_is_the_shipped_one(tmp_path):
    # Written where the guide puts it, beside the BYOL config it inherits.
    from mmengine.config import Config
    code, = guide_code('user_guides/configs.md',
                       "_base_ = ['../byol/byol_resnet18")
    configs = tmp_path / 'configs'
    (configs / 'nnbyol').mkdir(parents=True)
    for folder in ('_base_', 'byol'):
        os.symlink(osp.join(ROOT, 'configs', folder), configs / folder)
    (configs / 'nnbyol' / 'mine.py').write_text(code)
    mine = Config.fromfile(str(configs / 'nnbyol' / 'mine.py'))
    shipped = Config.fromfile(osp.join(
        ROOT, 'configs', 'nnbyol',
        'nnbyol_resnet18_1xb256-coslr-5e_fashion-mnist.py'))
    assert mine.to_dict() == shipped.to_dict()
