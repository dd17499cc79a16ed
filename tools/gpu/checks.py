"""The checks of the GPU acceptance run, one per call:

    python tools/gpu/checks.py NAME OUT_DIR [--rehearse]

Each check runs the project's own entry points (tools/train.py,
tools/dist_train.sh, tools/analysis_tools/speed.py, pytest) on the
Fashion-MNIST subset that tools/gpu/prepare.py carries, prints what it
measured and writes ``OUT_DIR/checks/NAME.json``: ``passed``,
``measured`` and ``notes``. ``--rehearse`` runs the same lines on the CPU
with tiny sizes. tools/gpu/acceptance.py runs them in order, each under
its time limit.
"""
import argparse
import glob
import json
import math
import os
import os.path as osp
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from typing import Tuple

import torch

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
DATA = osp.join(ROOT, 'data', 'gpu', 'fashion-mnist')
QUICKSTART = osp.join(ROOT, 'configs', 'nnclr',
                      'nnclr_resnet18_1xb256-coslr-5e_fashion-mnist.py')
DEVICE_AUG = osp.join(
    ROOT, 'configs', 'nnclr',
    'nnclr_resnet18_1xb256-coslr-5e_device-aug_fashion-mnist.py')
METHODS = {
    'NNCLR': QUICKSTART,
    'NNBYOL': osp.join(ROOT, 'configs', 'nnbyol',
                       'nnbyol_resnet18_1xb256-coslr-5e_fashion-mnist.py'),
    'NNSiam': osp.join(ROOT, 'configs', 'nnsiam',
                       'nnsiam_resnet18_1xb256-coslr-5e_fashion-mnist.py'),
}
GPU = torch.cuda.is_available()
#: The distributions whose versions the report records.
PACKAGES = ('torch', 'torchvision', 'numpy', 'mmengine', 'mmcv-lite',
            'mmpretrain', 'lightly', 'nnclr_mm', 'opencv-python-headless',
            'opencv-python', 'pillow', 'matplotlib', 'pytest')
#: Modules the node must have beside the carried wheels.
NODE_MODULES = ('torch', 'torchvision', 'numpy', 'PIL', 'cv2',
                'matplotlib', 'yaml', 'rich', 'packaging', 'click',
                'markdown', 'zipp', 'einops', 'pytest', 'sklearn', 'tqdm')


# -- running the tools ------------------------------------------------------
def env(**extra) -> dict:
    """This process's environment, with tools/gpu importable (the hooks)
    and ``extra`` set."""
    paths = [HERE, os.environ.get('PYTHONPATH', '')]
    return dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in paths if p),
                **extra)


def run(cmd, log: str, timeout: float = None, **extra_env) -> int:
    """Run ``cmd`` from the repository root, its output into ``log``;
    return its exit status."""
    with open(log, 'w') as out:
        return subprocess.run(cmd, cwd=ROOT, env=env(**extra_env),
                              stdout=out, stderr=subprocess.STDOUT,
                              timeout=timeout).returncode


def train_cmd(config: str, work_dir: str, *args) -> list:
    return [sys.executable, 'tools/train.py', config, '--work-dir', work_dir,
            *map(str, args)]


def tail(path: str, lines: int = 15) -> str:
    with open(path, errors='replace') as f:
        return ''.join(f.readlines()[-lines:])


def scalars(work_dir: str) -> list:
    """Every record of every run logged under ``work_dir``, in run order."""
    records = []
    for path in sorted(glob.glob(osp.join(work_dir, '*', 'vis_data',
                                          'scalars.json'))):
        with open(path) as f:
            records += [json.loads(line) for line in f]
    return records


def pytest(select: str, tests: str, out: str, name: str) -> tuple:
    """``pytest -k select tests``, its output in ``out/name.log``: the exit
    status, the counts of its JUnit report, the failed tests and the
    log's path."""
    xml, log = (osp.join(out, f'{name}.{ext}') for ext in ('xml', 'log'))
    status = run([sys.executable, '-m', 'pytest', '-q', '-p',
                  'no:cacheprovider', '-k', select, f'--junitxml={xml}',
                  tests], log)
    suite = ElementTree.parse(xml).getroot()
    suite = suite if suite.tag == 'testsuite' else suite[0]
    counts = {k: int(suite.get(k, 0))
              for k in ('tests', 'failures', 'errors', 'skipped')}
    failed = [f'{case.get("classname")}::{case.get("name")}'
              for case in suite.iter('testcase')
              if case.find('failure') is not None
              or case.find('error') is not None]
    return status, counts, failed, log


def write_config(path: str, base: str, *, images: int, batch: int,
                 workers: int = 0, epochs: int = None, iters: int = None,
                 save_every: int = None, val: int = None, hooks=(),
                 **extra) -> str:
    """``base`` on the carried data: ``images`` training images in batches
    of ``batch`` (the support set's warm-up one batch), for ``epochs`` or
    ``iters`` (an iteration loop saving every ``save_every``), kNN
    validation on ``val`` test images or none, ``hooks`` added; written to
    ``path``."""
    from mmengine.config import Config
    cfg = Config.fromfile(base)
    loaders = [cfg.train_dataloader]
    if val:
        loaders += [cfg.val_dataloader, cfg.val_cfg.bank_dataloader]
        cfg.val_dataloader.dataset.indices = val
        cfg.val_cfg.bank_dataloader.dataset.indices = images
    else:
        cfg.val_cfg = cfg.val_dataloader = cfg.val_evaluator = None
    for loader in loaders:
        loader.dataset.data_root = DATA
        loader.num_workers = workers
        loader.persistent_workers = workers > 0
    cfg.train_dataloader.batch_size = batch
    cfg.train_dataloader.dataset.indices = images
    for hook in cfg.custom_hooks:
        if hook.type == 'NNMemoryBankHook':
            hook.warmup = batch
    if epochs:
        cfg.train_cfg.max_epochs = epochs
    if iters:
        cfg.train_dataloader.sampler = dict(type='InfiniteSampler',
                                            shuffle=True)
        cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                             val_interval=iters)
        cfg.param_scheduler = [dict(type='CosineAnnealingLR', T_max=iters,
                                    by_epoch=False, begin=0, end=iters)]
        cfg.default_hooks.checkpoint = dict(
            type='CheckpointHook', by_epoch=False,
            interval=save_every or iters, max_keep_ckpts=-1)
        cfg.log_processor = dict(by_epoch=False)
    cfg.custom_imports.imports = [*cfg.custom_imports.imports,
                                  'acceptance_hooks']
    cfg.custom_hooks = [*cfg.custom_hooks, *hooks]
    cfg.merge_from_dict(extra)
    cfg.dump(path)
    return path


def same_tensors(a: dict, b: dict) -> list:
    """The keys whose tensors differ (or are missing) between ``a`` and
    ``b``, compared on the CPU."""
    return [k for k in a if k not in b or not torch.equal(
        a[k].cpu(), b[k].cpu())]


def optimizer_differences(saved: dict, restored: dict) -> list:
    out = []
    for idx, slot in saved['state'].items():
        for key, value in slot.items():
            other = restored['state'].get(idx, {}).get(key)
            if torch.is_tensor(value) and (other is None or not torch.equal(
                    value.cpu(), other.cpu())):
                out.append(f'state[{idx}].{key}')
    for key in ('loss_scaler', ):
        if saved.get(key) != restored.get(key):
            out.append(key)
    if [g['lr'] for g in saved['param_groups']] != [
            g['lr'] for g in restored['param_groups']]:
        out.append('lr')
    return out


# -- the checks -------------------------------------------------------------
def check_environment(out: str, rehearse: bool) -> dict:
    """What the node is: GPU, driver, CUDA, cuDNN and every package, and
    that the carried packages import from the folder they were installed
    into."""
    import importlib
    import importlib.metadata
    import platform
    measured = dict(python=platform.python_version(),
                    torch_cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    gpu_count=torch.cuda.device_count())
    if GPU:
        props = torch.cuda.get_device_properties(0)
        measured.update(gpu=props.name,
                        gpu_memory_gib=round(props.total_memory / 2**30, 1),
                        capability='.'.join(map(str, (props.major,
                                                      props.minor))))
        smi = subprocess.run(
            ['nvidia-smi', '--query-gpu=driver_version',
             '--format=csv,noheader'], capture_output=True, text=True)
        measured['driver'] = smi.stdout.strip() or smi.stderr.strip()
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    measured['packages'] = versions
    missing = []
    for module in NODE_MODULES:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    site = os.environ.get('NNCLR_MM_SITE', '')
    import mmengine
    import mmpretrain
    carried_from = {m.__name__: osp.dirname(osp.dirname(m.__file__))
                    for m in (mmengine, mmpretrain)}
    measured['carried_from'] = carried_from
    notes = [f'missing on this node: {", ".join(missing)}'] if missing else []
    in_site = bool(site) and all(
        osp.realpath(p) == osp.realpath(site) for p in carried_from.values())
    if not in_site:
        notes.append(f'mmengine/mmpretrain do not come from {site!r}')
    return dict(passed=(GPU or rehearse) and not missing and in_site,
                measured=measured, notes=notes)


def check_units(out: str, rehearse: bool) -> dict:
    """The suite's device-parametrised tests on CUDA (a few of their CPU
    cases in a rehearsal)."""
    select = ('cpu and (test_search or test_lightly_reference)' if rehearse
              else 'cuda')
    status, counts, failed, log = pytest(select, 'tests', out, 'units')
    ran = counts['tests'] - counts['skipped']
    return dict(passed=status == 0 and ran > 0,
                measured=dict(selected=select, ran=ran, **counts),
                notes=failed or [tail(log, 5)])


def quickstart_run(out: str, name: str, hook: str,
                   size: dict) -> Tuple[str, str]:
    """The work dir and config file of a check's run called ``name``: the
    quickstart at ``size`` (:func:`write_config`'s keywords), with the
    acceptance hook ``hook`` added."""
    config = write_config(osp.join(out, f'{name}.py'), QUICKSTART,
                          hooks=[dict(type=hook)], **size)
    return osp.join(out, name), config


def check_train_amp_resume(out: str, rehearse: bool) -> dict:
    """The quickstart with --amp and kNN validation; SIGTERM in its second
    epoch, --resume auto, and the resumed state equal to the saved one."""
    size = (dict(images=256, batch=32, val=64, epochs=2) if rehearse else
            dict(images=10240, batch=256, val=2000, epochs=5, workers=8))
    work, config = quickstart_run(out, 'quickstart', 'ResumedStateDumpHook',
                                  size)
    log = osp.join(out, 'quickstart_stop.log')
    with open(log, 'w') as f:
        proc = subprocess.Popen(train_cmd(config, work, '--amp'), cwd=ROOT,
                                env=env(), stdout=f,
                                stderr=subprocess.STDOUT)
        # Stop as the second epoch trains: the preemption hook saves after
        # the next training iteration.
        while proc.poll() is None and not osp.exists(
                osp.join(work, 'epoch_1.pth')):
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        stopped = proc.wait()
    last = open(osp.join(work, 'last_checkpoint')).read().strip()
    notes = [] if stopped == 143 else [
        f'the stopped run exited {stopped}, not 143: {tail(log)}']
    resumed_log = osp.join(out, 'quickstart_resume.log')
    resumed = run(train_cmd(config, work, '--amp', '--resume'), resumed_log)
    if resumed != 0:
        notes.append(f'the resumed run exited {resumed}: '
                     f'{tail(resumed_log)}')
    saved = torch.load(last, map_location='cpu', weights_only=True)
    restored = torch.load(osp.join(work, 'resumed_state.pth'),
                          map_location='cpu', weights_only=True)
    diffs = same_tensors(saved['state_dict'], restored['state_dict'])
    diffs += optimizer_differences(saved['optimizer'],
                                   restored['optimizer'])
    rng = saved['rng_state']['ranks'][0]
    diffs += [f'rng.{k}' for k in ('torch', 'cuda')
              if rng.get(k) != restored['rng'].get(k)]
    records = scalars(work)
    knn = [r['knn_top1'] for r in records if 'knn_top1' in r]
    losses = [r['loss'] for r in records if 'loss' in r]
    times = sorted(r['time'] for r in records if 'time' in r)
    measured = dict(
        stopped_at=osp.basename(last), knn_top1=knn,
        final_loss=losses[-1] if losses else None,
        step_s_median=times[len(times) // 2] if times else None,
        memory_mb=max((r.get('memory', 0) for r in records), default=0),
        loss_scale=saved['optimizer'].get('loss_scaler', {}).get('scale'),
        restored_tensors=len(saved['state_dict']),
        differences=diffs)
    notes += [f'restored state differs: {diffs}'] if diffs else []
    finite = bool(losses) and all(math.isfinite(v) for v in losses)
    passed = (stopped == 143 and resumed == 0 and not diffs and finite
              and len(knn) >= size['epochs'])
    return dict(passed=passed, measured=measured, notes=notes)


def check_exact_resume(out: str, rehearse: bool) -> dict:
    """With deterministic kernels and --amp: a run stopped halfway and
    resumed ends bit-identical to an uninterrupted one."""
    iters, at = (4, 2) if rehearse else (12, 6)
    size = dict(images=128, batch=16) if rehearse else dict(images=2560,
                                                            batch=256)
    common = dict(iters=iters, save_every=iters,
                  randomness=dict(seed=0, deterministic=True),
                  env_cfg=dict(cudnn_benchmark=False), **size)
    straight = write_config(osp.join(out, 'exact.py'), QUICKSTART, **common)
    stopped = write_config(
        osp.join(out, 'exact_stop.py'), QUICKSTART,
        hooks=[dict(type='StopAtIterationHook', at=at)], **common)
    runs = {}
    for name, config, args in (
            ('straight', straight, ()), ('stopped', stopped, ()),
            ('resumed', straight, ('--resume', ))):
        work = osp.join(out, 'exact_' + ('straight' if name == 'straight'
                                         else 'resumed'))
        runs[name] = run(train_cmd(config, work, '--amp', *args),
                         osp.join(out, f'exact_{name}.log'))
    final = [torch.load(osp.join(out, f'exact_{name}', f'iter_{iters}.pth'),
                        map_location='cpu', weights_only=True)
             for name in ('straight', 'resumed')]
    diffs = same_tensors(final[0]['state_dict'], final[1]['state_dict'])
    diffs += optimizer_differences(final[0]['optimizer'],
                                   final[1]['optimizer'])
    largest = max((float((final[0]['state_dict'][k].float() -
                          final[1]['state_dict'][k].float()).abs().max())
                   for k in diffs if k in final[0]['state_dict']),
                  default=0.0)
    return dict(
        passed=runs == dict(straight=0, stopped=143, resumed=0)
        and not diffs,
        measured=dict(iterations=iters, stopped_at=at, exit_codes=runs,
                      differing=diffs[:10], num_differing=len(diffs),
                      max_abs_difference=largest),
        notes=[])


def check_dist_train(out: str, rehearse: bool) -> dict:
    """tools/dist_train.sh on one rank: NCCL on a GPU (gloo in a
    rehearsal), BN converted to SyncBN, kNN validation."""
    size = (dict(images=64, batch=16, val=32, epochs=1) if rehearse else
            dict(images=2560, batch=256, val=512, epochs=1, workers=4))
    work, config = quickstart_run(out, 'dist', 'ModelReportHook', size)
    log = osp.join(out, 'dist.log')
    status = run(['bash', 'tools/dist_train.sh', config, '1', '--work-dir',
                  work, '--cfg-options', 'sync_bn=torch'], log,
                 PORT=str(29500 + os.getpid() % 1000),
                 PYTHON=sys.executable)
    report = {}
    path = osp.join(work, 'model_report.json')
    if osp.exists(path):
        with open(path) as f:
            report = json.load(f)
    knn = [r['knn_top1'] for r in scalars(work) if 'knn_top1' in r]
    expected = 'gloo' if rehearse else 'nccl'
    sync = sum(n for name, n in report.get('batch_norms', {}).items()
               if 'Sync' in name)
    return dict(
        passed=status == 0 and report.get('backend') == expected
        and sync > 0 and bool(knn),
        measured=dict(report, knn_top1=knn),
        notes=[] if status == 0 else [tail(log)])


def check_speed(out: str, rehearse: bool) -> dict:
    """tools/analysis_tools/speed.py: NNCLR vs SimCLR steps of ResNet-18 at
    32 px and ResNet-50 at 224 px (--amp, channels_last, the paper's
    98,304-entry bank, the paper recipe's 512 images per GPU where memory
    allows), the support-set lookup, and kNN over ImageNet's 1.28M x 2048
    bank."""
    result = osp.join(out, 'speed.json')
    args = ['--sections', 'step', 'lookup', 'knn', '--amp',
            '--channels-last', '--bank-size', '98304', '--out', result]
    if rehearse:
        args.append('--quick')
    else:
        memory = torch.cuda.get_device_properties(0).total_memory
        args += ['--r50-batch', '512' if memory > 70 * 2**30 else '256',
                 '--rounds', '3']
    log = osp.join(out, 'speed.log')
    status = run([sys.executable, 'tools/analysis_tools/speed.py', *args], log)
    measured = {}
    if osp.exists(result):
        with open(result) as f:
            measured = json.load(f)
    return dict(passed=status == 0 and {'step', 'lookup', 'knn'} <= set(
        measured), measured=measured, notes=[] if status == 0 else [tail(log)])


def check_checkpoint_portability(out: str, rehearse: bool) -> dict:
    """Checkpoints move between devices and process counts: saved on the
    GPU, resumed by a CPU-only process, and the reverse; a checkpoint of
    the earlier RNG format with 3 GPUs' CUDA states, and one of 2 ranks,
    resumed here."""
    size = dict(images=64, batch=16) if rehearse else dict(images=512,
                                                           batch=64)
    config = write_config(osp.join(out, 'portable.py'), QUICKSTART, iters=4,
                          save_every=2, **size)
    cpu_only = dict(CUDA_VISIBLE_DEVICES='')
    results, notes = {}, []

    def train(name, work, *args, **extra_env):
        log = osp.join(out, f'portable_{name}.log')
        results[name] = run(train_cmd(config, work, '--amp', *args), log,
                            **extra_env)
        if results[name] != 0:
            notes.append(f'{name}: {tail(log, 8)}')
        return log

    gpu_work, cpu_work = (osp.join(out, f'portable_{d}') for d in ('gpu',
                                                                   'cpu'))
    train('saved_on_gpu', gpu_work)
    train('resumed_on_cpu', osp.join(out, 'portable_gpu_to_cpu'),
          '--resume', osp.join(gpu_work, 'iter_2.pth'), **cpu_only)
    train('saved_on_cpu', cpu_work, **cpu_only)
    train('resumed_on_gpu', osp.join(out, 'portable_cpu_to_gpu'),
          '--resume', osp.join(cpu_work, 'iter_2.pth'))
    # The earlier format: rank 0's states as tensors, with the CUDA states
    # of 3 GPUs; and a checkpoint of 2 ranks.
    checkpoint = torch.load(osp.join(gpu_work, 'iter_2.pth'),
                            map_location='cpu', weights_only=True)
    rank0 = checkpoint['rng_state']['ranks'][0]
    cuda = (torch.frombuffer(bytearray(rank0['cuda']), dtype=torch.uint8)
            if rank0.get('cuda') else torch.zeros(16, dtype=torch.uint8))
    old = dict(python=rank0['python'], numpy=rank0['numpy'],
               torch=torch.frombuffer(bytearray(rank0['torch']),
                                      dtype=torch.uint8),
               cuda=[cuda] * 3, saved_in_validation=False)
    for name, rng in (('old_format_3_gpus', old),
                      ('two_ranks', dict(checkpoint['rng_state'],
                                         ranks=[rank0, rank0]))):
        path = osp.join(out, f'{name}.pth')
        torch.save(dict(checkpoint, rng_state=rng), path)
        log = train(name, osp.join(out, f'portable_{name}'), '--resume',
                    path)
        if name == 'two_ranks' and 'holds the random-number generators of 2' \
                not in open(log).read():
            notes.append('two_ranks: no notice of the other process count')
    return dict(passed=all(v == 0 for v in results.values()) and not notes,
                measured=dict(exit_codes=results), notes=notes)


def check_methods_amp(out: str, rehearse: bool) -> dict:
    """NNCLR, NNBYOL and NNSiam each train briefly with --amp: finite loss,
    neighbours as positives at the end, a float32 bank of unit rows."""
    size = dict(images=64, batch=16) if rehearse else dict(
        images=2560, batch=256, workers=4)
    measured, passed = {}, True
    for method, base in METHODS.items():
        work = osp.join(out, f'method_{method}')
        config = write_config(osp.join(out, f'method_{method}.py'), base,
                              epochs=1, **size)
        status = run(train_cmd(config, work, '--amp'),
                     osp.join(out, f'method_{method}.log'))
        records = [r for r in scalars(work) if 'loss' in r]
        checkpoint = torch.load(osp.join(work, 'epoch_1.pth'),
                                map_location='cpu', weights_only=True) \
            if status == 0 else None
        row = dict(exit=status)
        if records and checkpoint:
            state = checkpoint['state_dict']
            bank = state['memory_bank.bank'][:int(
                state['memory_bank.num_filled'])]
            row.update(
                loss=records[-1]['loss'],
                nn_positives=records[-1].get('nn_positives'),
                bank_dtype=str(bank.dtype).split('.')[-1],
                bank_norm_error=float((bank.norm(dim=1) - 1).abs().max()))
            passed &= (math.isfinite(row['loss'])
                       and row['nn_positives'] == 1
                       and bank.dtype == torch.float32
                       and row['bank_norm_error'] < 1e-5)
        else:
            passed = False
        measured[method] = row
    return dict(passed=passed, measured=measured, notes=[])


def check_device_aug(out: str, rehearse: bool) -> dict:
    """Augmentation on the device: the photometric ops against mmcv and
    Pillow on CUDA, their cost per sample beside mmcv's transforms
    (tools/analysis_tools/speed.py --sections device-aug), and the quickstart's
    device-aug config trained for an epoch with --amp."""
    status, equivalence, _, equivalence_log = pytest(
        'cpu' if rehearse else 'cuda',
        'tests/test_models/test_batch_photometric.py', out, 'equivalence')
    result = osp.join(out, 'speed.json')
    bench = run([sys.executable, 'tools/analysis_tools/speed.py', '--sections',
                 'device-aug', '--out', result,
                 *(['--quick'] if rehearse else [])],
                osp.join(out, 'speed.log'))
    cost = []
    if osp.exists(result):
        with open(result) as f:
            cost = json.load(f).get('device-aug', [])
    size = dict(images=64, batch=16) if rehearse else dict(
        images=2560, batch=256, workers=8)
    work = osp.join(out, 'train')
    config = write_config(osp.join(out, 'device_aug.py'), DEVICE_AUG,
                          epochs=1, **size)
    log = osp.join(out, 'train.log')
    trained = run(train_cmd(config, work, '--amp'), log)
    records = [r for r in scalars(work) if 'loss' in r]
    loss = records[-1]['loss'] if records else None
    ran = equivalence['tests'] - equivalence['skipped']
    passed = (status == 0 and ran > 0 and bench == 0 and bool(cost)
              and trained == 0 and loss is not None and math.isfinite(loss))
    notes = [tail(p, 8) for p, s in (
        (equivalence_log, status),
        (osp.join(out, 'speed.log'), bench), (log, trained)) if s]
    return dict(passed=passed,
                measured=dict(equivalence=equivalence, cost=cost,
                              train=dict(exit=trained, loss=loss)),
                notes=notes)


CHECKS = {
    name[len('check_'):]: fn
    for name, fn in globals().items() if name.startswith('check_')
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('name', choices=sorted(CHECKS))
    parser.add_argument('out_dir')
    parser.add_argument('--rehearse', action='store_true')
    args = parser.parse_args()
    out = osp.join(args.out_dir, args.name)
    os.makedirs(out, exist_ok=True)
    result = CHECKS[args.name](out, args.rehearse)
    print(json.dumps(result, indent=1, default=str))
    with open(osp.join(args.out_dir, f'{args.name}.json'), 'w') as f:
        json.dump(result, f, indent=1, default=str)


if __name__ == '__main__':
    main()
