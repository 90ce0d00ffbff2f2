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

"""The whitelist under concurrent load, rule changes and server faults.

Many client threads, each bound to its own loopback address (127.0.0.10,
127.0.0.11, ...), read two protected objects through two proxies sharing
the backends and memcache:

* ``public``: a public-read container (``.r:*``, no token needed) whose
  rule lists 127.0.0.32/27;
* ``private``: a container read with the owner's token, whose rules list
  127.0.0.16/28 (and IPv6 and IPv4 networks no client is in).

Every response is judged. Safety, always: never a 500 (nor any 5xx but the
fail-closed 503 while a fault lasts), never a byte of an object to a client
the rules do not list, never a wrong body. Service, outside fault windows:
every listed client gets 200 and the object, every other one the
whitelist's own 403.

A rule changed through one proxy mid-run is judged against both rule sets
until ``recheck_container_existence`` (2 s here, plus 1.5 s of grace for
memcached's one-second clock and scheduling) has passed since the change
completed, and against the new rules only after that. Swift clears the
cached container info *before* its backend POST, so a read racing the
change may cache the old rules again, in the memcache all proxies share,
for that long: that is the documented window.

Faults (container server, account server, both, memcached stopped, a
proxy restarted) open a window in which 503, 401 for token requests
(tempauth keeps tokens in memcache) and refused connections are accepted;
it closes when probes through both proxies are answered as the rules say
again, and the load goes on a second more, judged strictly.

The proxies' memcache client is given production-like settings
(:func:`tune_memcache`). CI runs a small load here (a few thousand requests
in all, 10-16 clients). The full run (50 clients, 20,000 requests, then the
faults under 20 clients) is ``python -m benchmarks.swift_load``, which uses
:class:`LoadRun` and :func:`fault_run` from this module.
"""

import collections
import http.client
import ipaddress
import os
import random
import threading
import time

import testtools

from tests.functional.swift import base
from tests.functional.swift import cluster as c

RECHECK = 2      # recheck_{container,account}_existence of the proxies
GRACE = 1.5      # memcached's 1 s clock, thread scheduling on 2 cores
DENY_BODY = b'IP Denied'
PROXY_APP = {
    'recheck_container_existence': str(RECHECK),
    'recheck_account_existence': str(RECHECK),
    # Swift stops asking a node for 60 s after 10 errors; with one replica
    # that would only delay the recovery looked for here.
    'error_suppression_interval': '1',
}
PROXIES = {'p1': c.ProxySpec(app=PROXY_APP, log_level='INFO'),
           'p2': c.ProxySpec(app=PROXY_APP, log_level='INFO')}

PUBLIC_RULE = '127.0.0.32/27'
PUBLIC_RULE_AFTER = '127.0.0.16/28'
PRIVATE_RULES = {'X-Container-Meta-Allow-Lab': '127.0.0.16/28',
                 'X-Container-Meta-Allow-Far':
                     '2001:db8::/32, 192.0.2.0/24 ::ffff:198.51.100.0/120'}


def client_sources(count):
    """*count* loopback client addresses from 127.0.0.10 on."""
    return ['127.0.0.%d' % (10 + i) for i in range(count)]


def networks(text):
    return [ipaddress.ip_network(n) for n in text.replace(',', ' ').split()]


class Target(object):
    """A protected object, and the history of the rules that cover it."""

    def __init__(self, name, path, secret, rules, token=False):
        self.name, self.path, self.secret = name, path, secret
        self.token = token
        # (sent, completed, networks): a change is visible from the moment
        # it is sent, and the rules before it until it completed + window.
        # Replaced, never mutated: workers read it while a change is made.
        self.epochs = ((0.0, 0.0, rules),)

    def begin_change(self, sent, rules):
        """Record a change as it is sent.

        Until :meth:`end_change`, any response may follow either rule set.
        """
        self.epochs += ((sent, None, rules),)

    def end_change(self, completed):
        sent, _none, rules = self.epochs[-1]
        self.epochs = self.epochs[:-1] + ((sent, completed, rules),)

    def possible(self, source, start, end, window):
        """Decisions (True: allowed) some acceptable rule set gives."""
        address = ipaddress.ip_address(source)
        epochs = self.epochs
        found = set()
        for i, (sent, _done, rules) in enumerate(epochs):
            if i + 1 < len(epochs):
                completed = epochs[i + 1][1]
                if completed is not None and start > completed + window:
                    continue  # replaced, and its cache window is over
            if end < sent:
                continue  # not yet sent when the request ended
            found.add(any(address in n for n in rules))
        return found


class Windows(object):
    """Time intervals in which a fault excuses 503s and dropped requests."""

    def __init__(self):
        self.spans = []
        self.lock = threading.Lock()

    def open(self, what):
        with self.lock:
            self.spans.append([what, time.monotonic(), None])
        return len(self.spans) - 1

    def close(self, index):
        with self.lock:
            self.spans[index][2] = time.monotonic()

    def during(self, start, end):
        with self.lock:
            return any(begin <= end and (stop is None or start <= stop)
                       for _what, begin, stop in self.spans)


class Tokens(object):
    """The owner's token, logged in again when memcached lost it."""

    def __init__(self, cluster):
        self.cluster = cluster
        self.lock = threading.Lock()
        self.value = cluster.token()
        self.refreshed = 0.0

    def refresh(self, stale):
        with self.lock:
            if stale != self.value or \
                    time.monotonic() - self.refreshed < 0.5:
                return
            self.refreshed = time.monotonic()
            try:
                self.value = self.cluster.token(refresh=True)
            except Exception:  # noqa: login needs memcached; retried later
                pass


Outcome = collections.namedtuple(
    'Outcome', 'source proxy target method start end status body error')


class LoadRun(object):
    """Bounded concurrent load whose every response is judged.

    :param total: requests in all (stops earlier at *max_seconds*).
    :param concurrency: client threads; thread *i* is bound to
        ``sources[i % len(sources)]``.
    """

    def __init__(self, cluster, targets, proxies, sources, total,
                 concurrency, max_seconds, window=RECHECK + GRACE,
                 seed=6, windows=None, tokens=None):
        self.cluster, self.targets, self.proxies = cluster, targets, proxies
        self.sources, self.total = sources, total
        self.concurrency, self.max_seconds = concurrency, max_seconds
        self.window, self.seed = window, seed
        self.windows = windows or Windows()
        self.tokens = tokens or Tokens(cluster)
        self.lock = threading.Lock()
        self.issued = 0
        self.counts = collections.Counter()
        self.violations = []
        self.stop = threading.Event()
        self.threads = []
        self.started = self.finished = None

    # -- running ------------------------------------------------------------

    def _next(self):
        with self.lock:
            if self.issued >= self.total or self.stop.is_set() or \
                    time.monotonic() > self.deadline:
                return False
            self.issued += 1
            return True

    def _connection(self, conns, proxy, source):
        conn = conns.get(proxy)
        if conn is None:
            conn = conns[proxy] = http.client.HTTPConnection(
                '127.0.0.1', self.cluster.ports[proxy],
                source_address=(source, 0), timeout=20)
        return conn

    def _worker(self, number):
        rng = random.Random(self.seed * 1000 + number)
        source = self.sources[number % len(self.sources)]
        conns = {}
        try:
            while self._next():
                target = rng.choice(self.targets)
                proxy = rng.choice(self.proxies)
                method = 'GET' if rng.random() < 0.75 else 'HEAD'
                headers = {}
                token = None
                if target.token:
                    token = headers['X-Auth-Token'] = self.tokens.value
                start = time.monotonic()
                status = body = error = None
                try:
                    conn = self._connection(conns, proxy, source)
                    conn.request(method, target.path, headers=headers)
                    resp = conn.getresponse()
                    status = resp.status
                    try:
                        body = resp.read()
                    except http.client.IncompleteRead as cut:
                        body = cut.partial
                    if resp.will_close:
                        conns.pop(proxy).close()
                except (OSError, http.client.HTTPException) as err:
                    error = '%s: %s' % (type(err).__name__, err)
                    old = conns.pop(proxy, None)
                    if old is not None:
                        old.close()
                self.judge(Outcome(source, proxy, target, method, start,
                                   time.monotonic(), status, body, error))
                if status == 401 and token is not None:
                    self.tokens.refresh(token)
        finally:
            for conn in conns.values():
                conn.close()

    def start(self):
        self.started = time.monotonic()
        self.deadline = self.started + self.max_seconds
        for number in range(self.concurrency):
            thread = threading.Thread(target=self._worker, args=(number,),
                                      name='load-%d' % number, daemon=True)
            thread.start()
            self.threads.append(thread)

    def join(self):
        for thread in self.threads:
            thread.join(max(1.0, self.deadline - time.monotonic() + 30))
        self.finished = time.monotonic()
        return self

    def run(self):
        self.start()
        return self.join()

    # -- judging ------------------------------------------------------------

    def _violation(self, kind, outcome, detail=''):
        with self.lock:
            self.counts['violation: ' + kind] += 1
            if len(self.violations) < 20:
                self.violations.append('%s: %s %s %s via %s -> %s %r %s' % (
                    kind, outcome.source, outcome.method,
                    outcome.target.name, outcome.proxy, outcome.status,
                    (outcome.body or b'')[:80], outcome.error or detail))

    def judge(self, outcome):
        target, status, body = outcome.target, outcome.status, outcome.body
        possible = target.possible(outcome.source, outcome.start,
                                   outcome.end, self.window)
        faulty = self.windows.during(outcome.start, outcome.end)
        if possible == {True}:
            kind = 'allowed'
        elif possible == {False}:
            kind = 'denied'
        else:
            kind = 'changing'
        with self.lock:
            self.counts['requests'] += 1
            self.counts['%s %s' % (kind, status or 'no answer')] += 1
            if faulty:
                self.counts['during a fault'] += 1
        body = body or b''
        secret = target.secret
        leaked = secret in body or secret[:16] in body
        if status == 200:
            if True not in possible:
                self._violation('LEAK: 200 to a non-listed client', outcome)
            elif outcome.method == 'GET' and body != secret:
                self._violation('wrong body', outcome)
            elif outcome.method == 'HEAD' and body:
                self._violation('HEAD with a body', outcome)
            return
        if leaked:
            self._violation('LEAK: object bytes in a refusal', outcome)
        if status is None:
            if not faulty:
                self._violation('no answer outside a fault', outcome)
            return
        if status >= 500 and (status != 503 or not faulty):
            self._violation('%d' % status, outcome)
            return
        if faulty and (status == 503 or (status == 401 and target.token)):
            return
        if status == 403 and False in possible:
            if outcome.method == 'GET' and body != DENY_BODY:
                self._violation('403 not from the whitelist', outcome)
            return
        self._violation('listed client refused' if True in possible
                        else 'unexpected answer', outcome)

    def summary(self):
        elapsed = (self.finished or time.monotonic()) - self.started
        lines = ['%d requests by %d clients from %d addresses through %s '
                 'in %.1f s (%.0f req/s)' % (
                     self.counts['requests'], self.concurrency,
                     len(set(self.sources[:self.concurrency])),
                     '+'.join(self.proxies), elapsed,
                     self.counts['requests'] / max(elapsed, 1e-9))]
        lines += ['  %-40s %7d' % item for item in sorted(
            self.counts.items()) if item[0] != 'requests']
        lines += ['  ' + v for v in self.violations]
        return '\n'.join(lines)


# -- cluster set-up shared with benchmarks/swift_load.py ----------------------


def make_secret(label, size=2048):
    head = ('%s SECRET %s ' % (os.urandom(8).hex(), label)).encode()
    return (head + os.urandom(size))[:size]


def _owner(cluster, method, path, headers=None, body=None, proxy='p1'):
    headers = dict(headers or {}, **{'X-Auth-Token': cluster.token()})
    resp = cluster.request(method, path, headers, body, '127.0.0.1', proxy)
    if resp.status // 100 != 2:
        raise AssertionError('%s %s failed: %r' % (method, path, resp))
    return resp


def make_targets(cluster, prefix='load', proxy='p1'):
    """The ``public`` and ``private`` targets (see the module docstring)."""
    suffix = '%s-%d-%s' % (prefix, os.getpid(), os.urandom(3).hex())
    public = '/v1/%s/public-%s' % (c.ACCOUNT, suffix)
    private = '/v1/%s/private-%s' % (c.ACCOUNT, suffix)
    _owner(cluster, 'PUT', public, {
        'X-Container-Read': '.r:*',
        'X-Container-Meta-Allow-Net': PUBLIC_RULE}, proxy=proxy)
    _owner(cluster, 'PUT', private, PRIVATE_RULES, proxy=proxy)
    targets = []
    for name, path, rules, token in (
            ('public', public, networks(PUBLIC_RULE), False),
            ('private', private,
             networks(' '.join(PRIVATE_RULES.values())), True)):
        secret = make_secret(path)
        _owner(cluster, 'PUT', path + '/o', body=secret, proxy=proxy)
        targets.append(Target(name, path + '/o', secret, rules, token))
    return targets


def change_public_rule(cluster, target, proxy='p1'):
    """Replace the public rule through *proxy*; record the change."""
    container = target.path.rsplit('/', 1)[0]
    # Recorded before it is sent: a worker may judge a response that the
    # change already governs before the POST returns here.
    target.begin_change(time.monotonic(), networks(PUBLIC_RULE_AFTER))
    _owner(cluster, 'POST', container,
           {'X-Container-Meta-Allow-Net': PUBLIC_RULE_AFTER}, proxy=proxy)
    target.end_change(time.monotonic())


def follow_time(cluster, target, source, proxy, since, max_seconds=30):
    """Seconds after *since* until *proxy* answers *source* per new rules.

    Polls every 20 ms; "follows" means this answer and all later ones
    (until the poll ends, 1 s later) agree with the newest rules.
    """
    address = ipaddress.ip_address(source)
    allowed = any(address in n for n in target.epochs[-1][2])
    want = 200 if allowed else 403
    first = None
    deadline = time.monotonic() + max_seconds
    headers = {'X-Auth-Token': cluster.token()} if target.token else {}
    while time.monotonic() < deadline:
        now = time.monotonic()
        resp = cluster.request('HEAD', target.path, headers, None, source,
                               proxy)
        if resp.status == want:
            if first is None:
                first = now
            elif now - first > 1.0:
                return first - since
        else:
            first = None
        time.sleep(0.02)
    return None


def probe_all(cluster, targets, proxies, sources):
    """Problems seen when every source asks every target on every proxy."""
    problems = []
    tokens = {}
    for target in targets:
        for proxy in proxies:
            for source in sources:
                headers = {}
                if target.token:
                    if 'owner' not in tokens:
                        tokens['owner'] = cluster.token()
                    headers['X-Auth-Token'] = tokens['owner']
                resp = cluster.request('GET', target.path, headers, None,
                                       source, proxy)
                allowed = target.possible(source, 1e12, 1e12, 0) == {True}
                ok = (resp.status == 200 and resp.body == target.secret) \
                    if allowed else (resp.status == 403 and
                                     resp.body == DENY_BODY)
                if not ok:
                    problems.append((target.name, proxy, source, resp))
    return problems


PROBES = ('127.0.0.10', '127.0.0.20', '127.0.0.40')  # each rule's sides


def wait_recovered(cluster, targets, proxies, sources, max_seconds=40):
    """Poll until answers follow the rules again; return what is still off.

    Polls a few addresses on each side of each rule, then checks every
    address once.
    """
    deadline = time.monotonic() + max_seconds
    while True:
        try:
            cluster.token(refresh=True)
            problems = probe_all(cluster, targets, proxies, PROBES)
            if not problems:
                problems = probe_all(cluster, targets, proxies, sources)
        except Exception as error:  # noqa: login may fail while recovering
            problems = [('login', None, None, error)]
        if not problems or time.monotonic() > deadline:
            return problems
        time.sleep(0.1)


def tune_memcache(cluster, proxies):
    """Give the proxies' memcache client production-like settings.

    Swift's defaults suit one client at a time: 2 connections per worker
    (``memcache_max_connections``), so with tens of concurrent requests a
    token lookup can wait past ``pool_timeout`` and tempauth answers 401;
    and a server that failed 10 times is not used again for 60 s
    (``error_suppression_interval``), which would only delay the recovery
    looked for here. The proxies read ``memcache.conf`` in their swift_dir
    when they start, so they are restarted.
    """
    with open(os.path.join(cluster.dir, 'memcache.conf'), 'w') as f:
        f.write('[memcache]\nmemcache_max_connections = 16\n'
                'error_suppression_interval = 1\n')
    for proxy in proxies:
        cluster.start_server(proxy)


def fault_run(cluster, targets, proxies, sources, servers, down_seconds,
              total=6000, concurrency=10, max_seconds=60, recovery=40):
    """Load; stop *servers*; wait; start them; load until recovered.

    *recovery* bounds the wait for answers that follow the rules again.

    :returns: ``(LoadRun, seconds from restart to recovery, problems the
        last recovery probe still saw)``.
    """
    run = LoadRun(cluster, targets, proxies, sources, total, concurrency,
                  max_seconds + recovery)
    run.start()
    time.sleep(0.5)
    window = run.windows.open(','.join(servers))
    try:
        for server in servers:
            cluster.stop_server(server)
        time.sleep(down_seconds)
    finally:
        for server in servers:
            if cluster.procs[server].poll() is not None:
                cluster.start_server(server)
    restarted = time.monotonic()
    problems = wait_recovered(cluster, targets, proxies, sources, recovery)
    recovered = time.monotonic() - restarted
    if not problems:
        # wait_recovered logged in again: the token its probes just used.
        run.tokens.value = cluster.token()
    run.windows.close(window)
    time.sleep(1.0)  # judged strictly again
    run.stop.set()
    run.join()
    return run, recovered, problems


# -- the tests ---------------------------------------------------------------


class LoadTestCase(base.ClusterTestCase):

    PROXIES = PROXIES
    # Listed by neither rule, by the private one (and the public one after
    # the change), by the public one only.
    SOURCES = ['127.0.0.%d' % i for i in (10, 11, 14, 15, 16, 17, 20, 21,
                                          30, 31, 32, 33, 40, 41, 50, 51)]

    @classmethod
    def setUpClass(cls):
        super(LoadTestCase, cls).setUpClass()
        tune_memcache(cls.cluster, list(cls.PROXIES))

    def setUp(self):
        super(LoadTestCase, self).setUp()
        self.cluster.token(refresh=True)  # memcached may have restarted
        self.targets = make_targets(self.cluster)
        self.assertEqual([], probe_all(self.cluster, self.targets,
                                       list(self.PROXIES), self.SOURCES))

    def load(self, total=600, concurrency=12, max_seconds=60, **kwargs):
        return LoadRun(self.cluster, self.targets, list(self.PROXIES),
                       self.SOURCES, total, concurrency, max_seconds,
                       **kwargs)

    def assertClean(self, run):
        self.addDetailUniqueName('load', _text(run.summary()))
        self.assertEqual([], run.violations, run.summary())
        self.assertEqual(run.total, run.counts['requests'], run.summary())


def _text(value):
    from testtools import content
    return content.text_content(value)


class TestJudging(testtools.TestCase):
    """The judge itself: which answers a rule change makes acceptable."""

    def test_change_in_flight_allows_both_rule_sets(self):
        target = Target('t', '/v1/a/c/o', b'x', networks(PUBLIC_RULE))
        target.begin_change(10.0, networks(PUBLIC_RULE_AFTER))
        # .40 is listed only before; a response judged while the POST is
        # still in flight may follow either rule set, however late.
        self.assertEqual({True, False},
                         target.possible('127.0.0.40', 11.0, 12.0, 1.0))
        self.assertEqual({True}, target.possible('127.0.0.40', 5.0, 9.0, 1.0))
        target.end_change(13.0)
        self.assertEqual({True, False},
                         target.possible('127.0.0.40', 13.5, 13.6, 1.0))
        self.assertEqual({False},
                         target.possible('127.0.0.40', 14.5, 14.6, 1.0))
        self.assertEqual({True},
                         target.possible('127.0.0.20', 14.5, 14.6, 1.0))


class TestLoad(LoadTestCase):
    """Concurrent clients on both sides of the rules, and a rule change."""

    def test_concurrent_allowed_and_denied(self):
        run = self.load(total=1200, concurrency=16).run()
        self.assertClean(run)
        for kind, status in (('allowed', 200), ('denied', 403)):
            self.assertGreater(run.counts['%s %s' % (kind, status)], 100,
                               run.summary())

    def test_rule_change_mid_run(self):
        public = self.targets[0]
        run = self.load(total=1500, concurrency=12, max_seconds=90)
        run.start()
        time.sleep(1.0)
        change_public_rule(self.cluster, public, proxy='p1')
        # 127.0.0.40 loses access, 127.0.0.20 gains it; p2 did not handle
        # the POST. Only the logged figure is a time; the check is on the
        # answers (LoadRun judges every one against the window).
        changed = public.epochs[-1][1]
        follow = [follow_time(self.cluster, public, '127.0.0.40', 'p2',
                              changed)]
        follow.append(follow_time(self.cluster, public, '127.0.0.20', 'p2',
                                  changed))
        run.join()
        self.addDetailUniqueName('follow seconds', _text(repr(follow)))
        self.assertClean(run)
        self.assertNotIn(None, follow)
        # Past the window, every proxy answers by the new rules only.
        time.sleep(max(0, changed + RECHECK + GRACE - time.monotonic()))
        self.assertEqual([], probe_all(self.cluster, self.targets,
                                       list(self.PROXIES),
                                       ['127.0.0.20', '127.0.0.40']))


class TestFaults(LoadTestCase):
    """Servers stop under load: no leak, no 500, and service recovers.

    The tests of this class stop servers of the class's cluster: they run
    one after the other (stestr groups a class on one worker).
    """

    def _fault(self, servers, down_seconds=RECHECK + 1.5, recovery=40):
        # Down past the cached info's lifetime, so that rules are unreadable.
        run, recovered, problems = fault_run(
            self.cluster, self.targets, list(self.PROXIES), self.SOURCES,
            servers, down_seconds, recovery=recovery)
        self.addDetailUniqueName('recovered after seconds', _text(
            '%.2f' % recovered))
        self.addDetailUniqueName('load', _text(run.summary()))
        self.assertEqual([], problems)
        self.assertEqual([], run.violations, run.summary())
        self.assertGreater(run.counts['during a fault'], 50, run.summary())
        self.assertGreater(run.counts['requests'] -
                           run.counts['during a fault'], 50, run.summary())
        return run

    def test_container_server_stopped(self):
        run = self._fault(['container'])
        self.assertGreater(run.counts['allowed 503'], 0, run.summary())

    def test_account_server_stopped(self):
        self._fault(['account'])

    def test_account_and_container_servers_stopped(self):
        self._fault(['account', 'container'])

    def test_memcached_stopped(self):
        # Usually back within a second (tune_memcache), but on a busy
        # machine a proxy may keep the restarted memcached error-limited
        # for Swift's default 60 s; tempauth cannot store tokens then.
        self._fault(['memcached'], recovery=80)

    def test_proxy_restarted(self):
        self._fault(['p2'], down_seconds=1.0)
