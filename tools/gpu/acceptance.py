"""Run the GPU acceptance checks (tools/gpu/checks.py), each in its own
process under its own time limit, and write the report as each ends:

    python tools/gpu/acceptance.py OUT_DIR [--rehearse]

(tools/gpu/acceptance.sh installs the carried wheels first.) On a GPU the
checks run one after another in order of value within :data:`BUDGET`
seconds: a check starts only while the budget has room, and gets what is
left of it at most, so the whole run ends in time for a second try in a
short slot. A rehearsal (``--rehearse``: the CPU, tiny sizes) runs two
checks at a time, each under three times its GPU limit. ``OUT_DIR/
gpu_report.json`` and ``OUT_DIR/gpu_report.md`` always hold every check,
run or not: ``pass``, ``fail`` (with what failed), ``timeout`` or ``not
run``.
"""
import argparse
import concurrent.futures
import datetime
import json
import os
import os.path as osp
import signal
import subprocess
import sys
import threading
import time

HERE = osp.dirname(osp.abspath(__file__))
ROOT = osp.dirname(osp.dirname(HERE))
#: Seconds for all checks on a GPU; installation takes the rest of 8 min.
BUDGET = 450
#: (check, seconds it may take on a GPU), most valuable first.
PLAN = (
    ('environment', 30),
    ('train_amp_resume', 110),
    ('units', 90),
    ('checkpoint_portability', 70),
    ('speed', 120),
    ('device_aug', 60),
    ('dist_train', 50),
    ('methods_amp', 60),
    ('exact_resume', 50),
)
#: A rehearsal runs on a CPU with tiny sizes: more time per check, and
#: checks side by side (most of their time is Python starting up).
REHEARSAL_SLOWDOWN = 3
REHEARSAL_LANES = 2


def git_commit() -> str:
    done = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=ROOT,
                          capture_output=True, text=True)
    return done.stdout.strip() or 'unknown'


def run_check(name: str, out: str, limit: float, rehearse: bool) -> dict:
    """Run one check in a new process group, killed at ``limit``."""
    cmd = [sys.executable, osp.join(HERE, 'checks.py'), name, out]
    env = os.environ
    if rehearse:
        cmd.append('--rehearse')
        # One thread each: the lanes share the CPU's cores.
        env = dict(env, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    log = osp.join(out, f'{name}.log')
    start = time.time()
    with open(log, 'w') as f:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=f,
                                stderr=subprocess.STDOUT,
                                start_new_session=True)
        try:
            status = proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            status = None
    seconds = round(time.time() - start, 1)
    path = osp.join(out, f'{name}.json')
    if status is None:
        return dict(result='timeout', seconds=seconds,
                    notes=[f'killed after {limit:.0f} s'])
    if status != 0 or not osp.exists(path):
        with open(log, errors='replace') as f:
            lines = f.readlines()[-20:]
        return dict(result='fail', seconds=seconds,
                    notes=[f'exit {status}: ' + ''.join(lines)])
    with open(path) as f:
        found = json.load(f)
    return dict(result='pass' if found['passed'] else 'fail',
                seconds=seconds, measured=found['measured'],
                notes=found['notes'])


def write_report(out: str, report: dict) -> None:
    with open(osp.join(out, 'gpu_report.json'), 'w') as f:
        json.dump(report, f, indent=1, default=str)
    env = next((c.get('measured', {}) for c in report['checks']
                if c['name'] == 'environment'), {})
    lines = [
        f'# GPU acceptance: {env.get("gpu", "no GPU (rehearsal)")}', '',
        f'Written by `bash tools/gpu/acceptance.sh` '
        f'({report["mode"]}) on {report["started"]}, commit '
        f'{report["commit"]}; {report["seconds"]:.0f} s in all.', '',
        '| check | result | seconds | measured |', '|---|---|---|---|'
    ]
    for check in report['checks']:
        measured = json.dumps(check.get('measured', {}), default=str)
        if len(measured) > 400:
            measured = measured[:400] + ' ...'
        notes = '; '.join(check.get('notes', []))
        cell = (measured + (f'<br>{notes}' if notes else '')).replace(
            '|', '\\|').replace('\n', ' ')
        lines.append(f'| {check["name"]} | {check["result"]} | '
                     f'{check.get("seconds", "")} | {cell} |')
    lines += ['', 'Every number in full: gpu_report.json beside this file.']
    with open(osp.join(out, 'gpu_report.md'), 'w') as f:
        f.write('\n'.join(lines) + '\n')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir')
    parser.add_argument('--rehearse', action='store_true',
                        help='on the CPU, tiny sizes, gloo for NCCL')
    args = parser.parse_args()
    out = osp.abspath(args.out_dir)
    os.makedirs(out, exist_ok=True)
    scale = REHEARSAL_SLOWDOWN if args.rehearse else 1
    start = time.time()
    report = dict(mode='rehearsal' if args.rehearse else 'gpu',
                  started=datetime.datetime.now().isoformat(
                      timespec='seconds'),
                  commit=git_commit(), seconds=0.0,
                  checks=[dict(name=n, result='not run') for n, _ in PLAN])
    write_report(out, report)
    lock = threading.Lock()  # rehearsal lanes write one report

    def run_next(check: dict, seconds: float) -> None:
        left = BUDGET * scale - (time.time() - start)
        if left < 10:
            check['notes'] = ['no time left in the budget']
            return
        limit = min(seconds * scale, left)
        print(f'[acceptance] {check["name"]} (at most {limit:.0f} s)',
              flush=True)
        result = run_check(check['name'], out, limit, args.rehearse)
        with lock:
            check.update(result)
            print(f'[acceptance] {check["name"]}: {check["result"]} in '
                  f'{check["seconds"]} s', flush=True)
            report['seconds'] = time.time() - start
            write_report(out, report)

    lanes = REHEARSAL_LANES if args.rehearse else 1
    with concurrent.futures.ThreadPoolExecutor(lanes) as pool:
        for done in [pool.submit(run_next, check, seconds)
                     for check, (_, seconds) in zip(report['checks'], PLAN)]:
            done.result()
    failed = [c['name'] for c in report['checks'] if c['result'] != 'pass']
    print(f'[acceptance] wrote {out}/gpu_report.md and gpu_report.json; ' +
          (f'not passed: {", ".join(failed)}' if failed else 'all passed'))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
