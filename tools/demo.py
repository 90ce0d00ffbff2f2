# Licensed under the Apache License, Version 2.0 (the "License"); you may
# not use this file except in compliance with the License. You may obtain
# a copy of the License at
#
#      http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS, WITHOUT
# WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied. See the
# License for the specific language governing permissions and limitations
# under the License.

"""openstack-ext, both halves, for real, on this machine, in two minutes.

Plays the 2013 Operations Guide's two "Customize" scenarios end to end:

1. Swift: a real cluster on 127.0.0.1 with the ip_whitelist middleware;
   clients at 127.0.0.2-4 are refused, then let in by an allow-* rule;
2. Nova: nova-api, conductor, scheduler, placement and four fake computes
   in-process (Nova's own functional fixtures); servers booted from
   several client networks land in their network's pool, and an admin's
   resize keeps the server in it.

Run it as ``bash tools/demo.sh`` (which installs what it needs first) or
``.venv/bin/python tools/demo.py``. Everything runs as the current user on
loopback, in temporary directories removed at the end, on failure and on
Ctrl-C. Exit status: 0 success, 1 a step failed (it says which, with the
log tail), 130 interrupted.
"""

import argparse
import contextlib
import io
import logging
import os
import shutil
import signal
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The fixtures under tests/ (and the package, if it is not installed).
sys.path.insert(1, TOP)

from openstack_ext.cmd import cli  # noqa: E402

LOG_TAIL = 25
SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DemoFailure(Exception):
    """A step failed: ``what`` failed, ``log`` is the relevant tail."""

    def __init__(self, what, log=''):
        super(DemoFailure, self).__init__(what)
        self.what, self.log = what, log


class Progress(object):
    """``  starting Swift: ... ok (1.2 s)`` lines."""

    interrupted = False

    def __init__(self, out):
        self.out = out
        self.started = None
        self.current = None

    def start(self, text):
        self.current = text
        self.out.write('  %s... ' % text)
        self.out.flush()
        self.started = time.monotonic()

    def more(self, word):
        self.out.write(word + ' ')
        self.out.flush()

    def done(self):
        if self.started is not None:
            self.out.write('ok (%.1f s)\n' % (time.monotonic() - self.started))
            self.started = None

    def failed(self):
        if self.started is not None:
            self.out.write('FAILED\n')
            self.started = None


def table(out, headers, rows):
    widths = [max(len(str(row[i])) for row in [headers] + rows)
              for i in range(len(headers))]
    for row in [headers, ['-' * w for w in widths]] + rows:
        out.write('  ' + '  '.join(str(cell).ljust(width) for cell, width
                                   in zip(row, widths)).rstrip() + '\n')
    out.write('\n')


def openstack_ext(*argv):
    """Run the openstack-ext command in-process; return its last line."""
    buf = io.StringIO()
    status = cli.main(list(argv), out=buf)
    lines = [line for line in buf.getvalue().splitlines()
             if line.startswith(('OK', 'FAILED', 'ERROR', 'pool '))]
    return status, lines


def swift_half(out, progress):
    import demo_swift
    cluster = None
    try:
        cluster = demo_swift.start(progress)
        rows, bodies = demo_swift.play(cluster, progress)
        out.write('\nSwift: GET %s from each client with the owner\'s '
                  'token,\nip_whitelist with deny_without_rules = true (the '
                  'guide\'s strict mode)\n\n' % demo_swift.CONTAINER)
        table(out, ['client'] + [title for title, _ in demo_swift.STAGES],
              rows)
        out.write('  denied: 403 %s\n' % ' | '.join(sorted(bodies)))
        out.write('  proxy log: %s\n' % demo_swift.denial_log_line(cluster))
        status, lines = openstack_ext('check-proxy-pipeline',
                                      cluster.conf_path('main'))
        out.write('  openstack-ext check-proxy-pipeline <this proxy>: %s\n'
                  % lines[-1])
        status, lines = openstack_ext('check-rule', '10.1.2.3/16')
        out.write('  openstack-ext check-rule 10.1.2.3/16: %s\n\n'
                  % lines[0])
    except Exception as error:
        _reraise_interrupt(error)
        log = cluster.log_tail('main', LOG_TAIL) if cluster and hasattr(
            cluster, 'dir') and os.path.exists(cluster.log_path('main')) \
            else ''
        raise DemoFailure('Swift: %s' % _last_line(error), log)
    finally:
        if cluster is not None:
            progress.failed()
            progress.start('stopping Swift')
            with _shielded():
                cluster.cleanUp()
                progress.done()


@contextlib.contextmanager
def _shielded():
    """Let a clean-up finish even if Ctrl-C is pressed (again)."""
    pending = []
    previous = {signum: signal.signal(signum, lambda n, f: pending.append(n))
                for signum in SIGNALS}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    if pending:
        Progress.interrupted = True
        raise KeyboardInterrupt()


def _reraise_interrupt(error):
    # fixtures wraps what interrupts a fixture's setUp (after cleaning up).
    for info in getattr(error, 'args', ()):
        if isinstance(info, tuple) and info and info[0] is KeyboardInterrupt:
            raise KeyboardInterrupt()


def _last_line(error):
    text = str(error).strip() or type(error).__name__
    return text.splitlines()[0]


def _nova_failure(case, result, stderr_log, step):
    test, _err = (result.errors + result.failures)[0]
    details = case.getDetails()
    trace = details.get('traceback')
    trace = trace.as_text().strip().splitlines() if trace else []
    nova_log = details.get("pythonlogging:''")
    nova_log = nova_log.as_text().splitlines() if nova_log else []
    for index, line in enumerate(nova_log):
        if 'graceful shutdown started' in line:
            nova_log = nova_log[:index]  # the rest is the clean-up's
            break
    if not nova_log and os.path.exists(stderr_log):
        with open(stderr_log) as f:
            nova_log = f.read().splitlines()
    # Nova's assertion messages can hold a whole server document.
    reason = trace[-1] if trace else 'failed'
    if len(reason) > 300:
        reason = reason[:300] + '...'
    return DemoFailure('Nova, %s: %s' % (step, reason),
                       '\n'.join(nova_log[-LOG_TAIL:]))


def nova_half(out, progress, workdir):
    # Nova's warnings and eventlet's deprecation notices go to a file: fd 2
    # is redirected while Nova runs in this process.
    stderr_log = os.path.join(workdir, 'nova-stderr.log')
    saved = os.dup(2)
    with open(stderr_log, 'w') as log:
        os.dup2(log.fileno(), 2)
    try:
        progress.start('loading Nova')
        import demo_nova
        import testtools
        progress.done()
        rows = []
        demo_nova.NovaDemo.progress = progress
        demo_nova.NovaDemo.emit = staticmethod(
            lambda *row: rows.append(list(row)))
        # Nova's test package logs to stdout when its logging fixture is
        # not in place (early in setUp, late in cleanUp): keep it in the
        # file too.
        logging.root.handlers = [logging.FileHandler(stderr_log)]
        case = demo_nova.NovaDemo('test_demo')
        result = testtools.TestResult()
        case.run(result)
        if Progress.interrupted:
            raise KeyboardInterrupt()
        if not result.wasSuccessful():
            raise _nova_failure(case, result, stderr_log, progress.current)
        progress.done()
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    out.write('\nNova: a server created from each client (X-Forwarded-For '
              'of one load balancer),\n[ip_pools] client_networks = %s\n'
              '           default_pool = %s\n\n'
              % (', '.join(demo_nova.NETWORKS), demo_nova.DEFAULT_POOL))
    table(out, ['client', 'pool', 'host', 'note'], rows)
    out.write('  (a test weigher ranks the hosts outside the pool first: '
              'only the filter keeps\n  the servers in their pool)\n')
    conf = os.path.join(workdir, 'nova.conf')
    with open(conf, 'w') as f:
        f.write('[ip_pools]\nclient_networks = %s\ndefault_pool = %s\n' % (
            ', '.join(demo_nova.NETWORKS), demo_nova.DEFAULT_POOL))
    status, lines = openstack_ext('explain-pool', '--config-file', conf,
                                  '10.10.0.5')
    out.write('  openstack-ext explain-pool 10.10.0.5: %s\n\n' % lines[-1])


def _interrupted(signum, frame):
    # SIGTERM behaves as Ctrl-C: every finally and fixture cleanup runs.
    # Remembered, because a wait loop in Nova's test helpers may turn the
    # KeyboardInterrupt into a test failure.
    Progress.interrupted = True
    raise KeyboardInterrupt()


def main(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__.split('\n\n')[0],
        epilog='Run "bash tools/demo.sh" on a fresh machine: it installs '
        'memcached and the virtualenv first.')
    parser.add_argument('--only', choices=('swift', 'nova'),
                        help='play one half only')
    args = parser.parse_args(argv)
    out = sys.stdout
    # SIGINT too when started with it ignored (a script's background job).
    for signum in SIGNALS:
        signal.signal(signum, _interrupted)
    progress = Progress(out)
    workdir = tempfile.mkdtemp(prefix='openstack-ext-demo-')
    began = time.monotonic()
    status = 0
    out.write('openstack-ext demo: the Operations Guide\'s two scenarios, '
              'for real, on loopback\n')
    try:
        if not shutil.which('memcached') and args.only != 'nova':
            raise DemoFailure('memcached is not installed: run "bash '
                              'tools/demo.sh", which installs it')
        if args.only != 'nova':
            swift_half(out, progress)
        if args.only != 'swift':
            nova_half(out, progress, workdir)
    except KeyboardInterrupt:
        progress.failed()
        out.write('\ninterrupted: everything started has been stopped\n')
        status = 130
    except DemoFailure as failure:
        progress.failed()
        out.write('\nFAILED: %s\n' % failure.what)
        if failure.log:
            out.write('--- last lines of the log ---\n%s\n' % failure.log)
        status = 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    if status == 0:
        out.write('demo finished in %.0f s\n' % (time.monotonic() - began))
    return status


if __name__ == '__main__':
    sys.exit(main())
