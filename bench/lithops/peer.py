#!/usr/bin/env python3
"""
Peer benchmark: measures Lithops (PyPI `lithops`) on this machine, so that
tswren's `npm run bench` can print tswren/Lithops ratios from the same run.

Lithops runs with its localhost compute backend and localhost storage,
configured entirely in code (no ~/.lithops/config is read or written): every
measurement runs in a child process whose TMPDIR and HOME point into a fresh
temp dir, which is where Lithops keeps its storage root, job files, runner
copies and runtime-metadata cache. The temp dir is removed at the end.

Measurements (each in its own child process, with its own FunctionExecutor and
one untimed warm-up call_async + get_result first):

  map        wall time of  fs = fexec.map(noop, range(N));  fexec.get_result(fs)
             (executor creation and the warm-up are excluded)
  roundtrip  median over R iterations of  f = fexec.call_async(noop, 3);
             fexec.get_result(fs=f)

Modes (the localhost backend's `version` key, lithops/executors.py):
  single   localhost version 1: one runner process per job, which runs all of
           the job's calls in its own worker processes ("single runner")
  default  localhost version 2 (what Lithops uses when `version` is unset):
           a new Python runner process per task/call

Stdout carries exactly one line: a JSON object (always printed, also on
failure). Lithops' own logs and anything the children print go to stderr.

Run with the venv's python (bench/lithops/setup.sh prints its path); when run
with another interpreter that cannot import lithops, it re-executes itself
with ${TSWREN_BENCH_VENV:-~/.cache/tswren-services/lithops-venv}/bin/python.
"""

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid

MODES = {
    # name -> value of config['localhost']['version'] (None = leave unset)
    'single': 1,
    'default': None,
}
TOKEN_ENV = 'TSWREN_LITHOPS_PEER_TOKEN'
REEXEC_ENV = 'TSWREN_LITHOPS_PEER_REEXEC'


def log(msg):
    print(f'[lithops-peer] {msg}', file=sys.stderr, flush=True)


# --------------------------------------------------------------------------
# Child side: one measurement in one process
# --------------------------------------------------------------------------

def noop(x):
    return x


def wait_idle(fexec, limit=5.0):
    """
    Untimed: waits until the localhost handler's job-manager thread has
    exited. Lithops 3.8.0's localhost v2 handler has a race: when get_result()
    returns, clear() stops the consumer threads, but the job manager thread
    lingers a moment; a job invoked in that window sees the manager still
    set, so start_manager() does not restart the consumers, and the job's
    tasks sit in the work queue forever (get_result() hangs). A person
    typing calls never hits it; a tight call_async/get_result loop does
    within a few iterations. Returns the seconds waited.
    """
    handler = fexec.compute_handler
    if os.environ.get('TSWREN_LITHOPS_PEER_NO_IDLE_WAIT') == '1':
        return 0.0  # to reproduce the race
    if not hasattr(handler, 'job_manager'):
        return 0.0
    t0 = time.perf_counter()
    while handler.job_manager is not None and time.perf_counter() - t0 < limit:
        time.sleep(0.001)
    return time.perf_counter() - t0


def run_worker(kind, mode, count, out_path, log_level):
    """Runs one measurement and writes its result as JSON to out_path."""
    t_import = time.perf_counter()
    import lithops  # noqa: E402  (TMPDIR/HOME must be set before this import)
    import_s = time.perf_counter() - t_import

    config = {
        'lithops': {
            'backend': 'localhost',
            'storage': 'localhost',
            'log_level': log_level,
        },
        'localhost': {
            # An absolute path: a bare 'python' would be looked up on PATH
            # and could be an interpreter without lithops' dependencies.
            'runtime': sys.executable,
        },
    }
    if MODES[mode] is not None:
        config['localhost']['version'] = MODES[mode]

    result = {'kind': kind, 'mode': mode, 'import_s': import_s}

    t0 = time.perf_counter()
    fexec = lithops.FunctionExecutor(config=config, log_level=log_level)
    result['create_executor_s'] = time.perf_counter() - t0
    result['compute_handler'] = type(fexec.compute_handler).__name__

    t0 = time.perf_counter()
    f = fexec.call_async(noop, 0)
    got = fexec.get_result(fs=f, show_progressbar=False)
    result['warmup_s'] = time.perf_counter() - t0
    if got != 0:
        raise RuntimeError(f'warm-up call returned {got!r}, expected 0')
    idle_s = wait_idle(fexec)

    if kind == 'map':
        t0 = time.perf_counter()
        fs = fexec.map(noop, range(count))
        t_invoked = time.perf_counter()
        res = fexec.get_result(fs=fs, show_progressbar=False)
        t1 = time.perf_counter()
        if list(res) != list(range(count)):
            raise RuntimeError(
                f'map returned {len(res)} results, not range({count})')
        result['map_s'] = t1 - t0
        result['map_invoke_s'] = t_invoked - t0
        result['calls'] = count
    else:
        samples = []
        for _ in range(count):
            t0 = time.perf_counter()
            f = fexec.call_async(noop, 3)
            got = fexec.get_result(fs=f, show_progressbar=False)
            samples.append(time.perf_counter() - t0)
            if got != 3:
                raise RuntimeError(f'call_async returned {got!r}, expected 3')
            idle_s += wait_idle(fexec)
        result['roundtrip_median_s'] = statistics.median(samples)
        result['roundtrip_min_s'] = min(samples)
        result['roundtrip_max_s'] = max(samples)
        result['roundtrips'] = count

    result['idle_wait_s'] = idle_s
    # The result is on disk before Lithops' shutdown, which the parent only
    # waits a few seconds for.
    tmp = out_path + '.tmp'
    with open(tmp, 'w') as fh:
        json.dump(result, fh)
    os.replace(tmp, out_path)

    t0 = time.perf_counter()
    try:
        fexec.__exit__(None, None, None)
    except Exception as exc:  # shutdown problems do not void the figure
        log(f'{kind}/{mode}: executor shutdown raised {exc!r}')
    log(f'{kind}/{mode}: executor shutdown took {time.perf_counter() - t0:.2f} s')


# --------------------------------------------------------------------------
# Parent side: spawning, timeouts, cleanup
# --------------------------------------------------------------------------

def become_subreaper():
    """
    Lithops starts its runners and its cleaner with start_new_session=True, so
    they leave our process group. As a child subreaper (Linux) we inherit any
    of them that get orphaned, and can find and end them by pid.
    """
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        PR_SET_CHILD_SUBREAPER = 36
        return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0
    except Exception:
        return False


def our_leftovers(token):
    """Processes we started (directly or not) that are still alive."""
    import psutil
    me = psutil.Process()
    found = {}
    try:
        for p in me.children(recursive=True):
            found[p.pid] = p
    except psutil.Error:
        pass
    # Fallback for processes that escaped the tree (no subreaper support):
    # they all inherited TOKEN_ENV from the child we started.
    for p in psutil.process_iter():
        if p.pid in found or p.pid == me.pid:
            continue
        try:
            if p.environ().get(TOKEN_ENV) == token:
                found[p.pid] = p
        except psutil.Error:
            continue
    return list(found.values())


def end_leftovers(token, grace=3.0):
    import psutil
    procs = our_leftovers(token)
    if not procs:
        return 0
    for p in procs:
        try:
            log(f'ending leftover pid {p.pid}: {" ".join(p.cmdline())[:160]}')
        except psutil.Error:
            pass
    for p in procs:
        try:
            p.terminate()
        except psutil.Error:
            pass
    _, alive = psutil.wait_procs(procs, timeout=grace)
    for p in alive:
        try:
            p.kill()
        except psutil.Error:
            pass
    psutil.wait_procs(alive, timeout=grace)
    # Reap orphans handed to us as subreaper that already exited.
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            break
        if pid == 0:
            break
    return len(procs)


def run_measurement(kind, mode, count, timeout, base_dir, token, log_level,
                    notes):
    """Runs one measurement in a child process; returns its dict or None."""
    work = tempfile.mkdtemp(prefix=f'{kind}-{mode}-', dir=base_dir)
    home = os.path.join(work, 'home')
    tmp = os.path.join(work, 'tmp')
    os.makedirs(home)
    os.makedirs(tmp)
    out_path = os.path.join(work, 'result.json')

    env = dict(os.environ)
    env.update({
        'TMPDIR': tmp,           # Lithops' storage root, jobs, runner copies
        'HOME': home,            # ~/.lithops cache: not the user's
        TOKEN_ENV: token,
        'PYTHONUNBUFFERED': '1',
    })
    # LITHOPS_CONFIG*: the config is the dict in run_worker, nothing else.
    # PYTHONDONTWRITEBYTECODE (set in some sandboxes/CI images): Lithops
    # copies itself without __pycache__ into $TMPDIR and every runner process
    # imports it from there, so without bytecode caching each runner
    # recompiles lithops; a normal install caches it after the first runner.
    for var in ('LITHOPS_CONFIG', 'LITHOPS_CONFIG_FILE',
                'PYTHONDONTWRITEBYTECODE'):
        env.pop(var, None)

    cmd = [sys.executable, os.path.abspath(__file__), '--_worker', kind, mode,
           str(count), out_path, '--log-level', log_level]
    log(f'{kind}/{mode}: starting ({count} {"calls" if kind == "map" else "round trips"},'
        f' timeout {timeout:.0f} s)')
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, cwd=work, stdin=subprocess.DEVNULL,
                            stdout=sys.stderr.fileno(), stderr=sys.stderr.fileno())
    status = None
    try:
        while True:
            rc = proc.poll()
            if rc is not None:
                status = 'exited' if rc == 0 else f'exited with code {rc}'
                break
            if os.path.exists(out_path):
                # Measured; give Lithops' shutdown a little time, no more.
                try:
                    rc = proc.wait(timeout=15)
                    status = 'exited' if rc == 0 else f'exited with code {rc}'
                except subprocess.TimeoutExpired:
                    status = 'measured, shutdown hung (killed)'
                break
            if time.monotonic() - t0 > timeout:
                status = f'timed out after {timeout:.0f} s (killed)'
                break
            time.sleep(0.05)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        n = end_leftovers(token)
        if n:
            log(f'{kind}/{mode}: ended {n} leftover Lithops process(es)')

    result = None
    if os.path.exists(out_path):
        with open(out_path) as fh:
            result = json.load(fh)
    if result is None:
        notes.append(f'{kind}/{mode}: no result, child {status}')
    elif status != 'exited':
        notes.append(f'{kind}/{mode}: child {status} after measuring')
    log(f'{kind}/{mode}: {status} in {time.monotonic() - t0:.1f} s')
    shutil.rmtree(work, ignore_errors=True)
    return result


class OverallTimeout(Exception):
    pass


def maybe_reexec():
    """Switches to the bench venv's python when lithops is not importable."""
    # find_spec, not import: importing lithops creates its dirs under the
    # current TMPDIR, and this process keeps the caller's TMPDIR.
    import importlib.util
    try:
        import psutil  # noqa: F401
        if importlib.util.find_spec('lithops') is None:
            raise ImportError('No module named lithops')
        return None
    except ImportError as exc:
        err = exc
    venv = os.environ.get('TSWREN_BENCH_VENV') or os.path.join(
        os.path.expanduser('~'), '.cache', 'tswren-services', 'lithops-venv')
    vpy = os.path.join(venv, 'bin', 'python')
    if (os.path.exists(vpy) and not os.environ.get(REEXEC_ENV)
            and os.path.abspath(vpy) != os.path.abspath(sys.executable)):
        # (No realpath: a venv's bin/python is a symlink to its base python.)
        os.environ[REEXEC_ENV] = '1'
        os.execv(vpy, [vpy, os.path.abspath(__file__)] + sys.argv[1:])
    return (f'cannot import lithops/psutil with {sys.executable} ({err}); '
            f'run bench/lithops/setup.sh and use the python it prints')


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--calls', type=int, default=1000,
                    help='calls in the timed map (default 1000)')
    ap.add_argument('--roundtrips', type=int, default=50,
                    help='call_async round trips to take the median of (default 50)')
    ap.add_argument('--modes', default='single',
                    help='comma list of: single, default (default: single; '
                         '"default" mode takes ~100 s for 1000 calls here)')
    ap.add_argument('--timeout', type=float, default=300,
                    help='seconds per measurement, child killed past it (default 300)')
    ap.add_argument('--overall-timeout', type=float, default=None,
                    help='seconds for the whole run (default: timeout x '
                         'measurements + 60)')
    ap.add_argument('--no-roundtrip', action='store_true',
                    help='skip the call_async round-trip measurement')
    ap.add_argument('--roundtrip-modes', default=None,
                    help='modes to measure round trips in (default: same as --modes)')
    ap.add_argument('--log-level', default='WARNING',
                    help="Lithops' log level, logs go to stderr (default WARNING)")
    ap.add_argument('--_worker', nargs=4, metavar=('KIND', 'MODE', 'N', 'OUT'),
                    help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args._worker:
        kind, mode, n, out = args._worker
        # Anything Lithops prints goes to stderr, as does our stdout here.
        run_worker(kind, mode, int(n), out, args.log_level)
        return 0

    out = {'lithops_version': None, 'map_1000_s': {}, 'roundtrip_median_s': None,
           'notes': []}
    notes = out['notes']

    def emit(code):
        sys.stdout.write(json.dumps(out) + '\n')
        sys.stdout.flush()
        return code

    problem = maybe_reexec()
    if problem:
        notes.append(problem)
        return emit(1)

    modes = [m.strip() for m in args.modes.split(',') if m.strip()]
    rt_modes = modes if args.roundtrip_modes is None else [
        m.strip() for m in args.roundtrip_modes.split(',') if m.strip()]
    if args.no_roundtrip:
        rt_modes = []
    bad = [m for m in modes + rt_modes if m not in MODES]
    if bad or not modes or args.calls < 1 or args.roundtrips < 1:
        notes.append(f'bad arguments: modes must be from {sorted(MODES)}, '
                     f'counts >= 1 (got modes {modes + rt_modes})')
        return emit(1)

    import importlib.metadata
    out['lithops_version'] = importlib.metadata.version('lithops')
    out['python'] = sys.version.split()[0]
    out['cpus'] = os.cpu_count()
    out['calls'] = args.calls
    if args.calls != 1000:
        notes.append(f'map_1000_s holds a {args.calls}-call map (--calls)')
    out['roundtrips'] = args.roundtrips if rt_modes else 0

    plan = [('map', m, args.calls) for m in modes] + \
           [('roundtrip', m, args.roundtrips) for m in rt_modes]
    overall = args.overall_timeout or args.timeout * len(plan) + 60
    deadline = time.monotonic() + overall
    token = uuid.uuid4().hex
    if not become_subreaper():
        notes.append('could not become a child subreaper; leftover Lithops '
                     'processes are found by environment marker instead')
    base_dir = tempfile.mkdtemp(prefix='tswren-lithops-peer-')

    def on_signal(signum, _frame):
        raise OverallTimeout(f'signal {signum}')

    def on_alarm(_signum, _frame):
        raise OverallTimeout(f'overall timeout of {overall:.0f} s')

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGHUP, on_signal)
    signal.signal(signal.SIGALRM, on_alarm)
    # Hard backstop; the per-measurement timeouts below are cut to fit first.
    signal.alarm(int(overall) + 30)

    out['map_1000_s'] = {m: None for m in modes}
    per_mode = {}
    ok = True
    t_run = time.monotonic()
    try:
        for kind, mode, n in plan:
            left = deadline - time.monotonic()
            if left < 5:
                notes.append(f'{kind}/{mode}: skipped, overall timeout of '
                             f'{overall:.0f} s reached')
                ok = False
                continue
            r = run_measurement(kind, mode, n, min(args.timeout, left), base_dir,
                                token, args.log_level, notes)
            if r is None:
                ok = False
                if kind == 'map':
                    out['map_1000_s'][mode] = None
                continue
            d = per_mode.setdefault(mode, {'compute_handler': r['compute_handler']})
            d[f'{kind}_create_executor_s'] = round(r['create_executor_s'], 4)
            d[f'{kind}_warmup_s'] = round(r['warmup_s'], 4)
            d[f'{kind}_untimed_idle_wait_s'] = round(r['idle_wait_s'], 4)
            if kind == 'map':
                out['map_1000_s'][mode] = round(r['map_s'], 4)
                d['map_invoke_s'] = round(r['map_invoke_s'], 4)
                d['map_calls_per_s'] = round(r['calls'] / r['map_s'], 2)
            else:
                d['roundtrip_median_s'] = round(r['roundtrip_median_s'], 4)
                d['roundtrip_min_s'] = round(r['roundtrip_min_s'], 4)
                d['roundtrip_max_s'] = round(r['roundtrip_max_s'], 4)
                if out['roundtrip_median_s'] is None:
                    out['roundtrip_median_s'] = d['roundtrip_median_s']
                    out['roundtrip_mode'] = mode
    except OverallTimeout as exc:
        notes.append(f'stopped early: {exc}')
        ok = False
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        try:
            end_leftovers(token)
        finally:
            shutil.rmtree(base_dir, ignore_errors=True)

    out['by_mode'] = per_mode
    out['total_s'] = round(time.monotonic() - t_run, 2)
    notes.append('localhost compute + localhost storage, config in code; '
                 'map time = map() + get_result(), executor creation and one '
                 'warm-up call excluded; get_result(show_progressbar=False)')
    notes.append('between calls (untimed) the harness waits for the localhost '
                 "handler's job-manager thread to exit: without it lithops "
                 '3.8.0 localhost v2 deadlocks in a tight call_async/get_result '
                 'loop (consumers torn down, manager still set)')
    if os.environ.get('PYTHONDONTWRITEBYTECODE'):
        notes.append('PYTHONDONTWRITEBYTECODE was set; unset for the Lithops '
                     'processes so its runners can use cached bytecode as on a '
                     'normal install')
    notes.append('modes: single = localhost version 1 (one runner per job), '
                 'default = localhost version 2 (one runner process per call)')
    return emit(0 if ok else 2)


if __name__ == '__main__':
    sys.exit(main())
