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

"""The Swift half of the demo: the guide's ip_whitelist scenario.

A real cluster (tests/functional/swift/cluster.py: memcached, account,
container and object servers, one proxy with ip_whitelist, all on
loopback) configured as the guide's: ``deny_message = You shall not
pass!`` and its strict mode (a container without rules is closed to all
but the proxy host). Loopback clients 127.0.0.2, .3, .4 stand for remote
machines: the proxy sees each as its own client address.
"""

from tests.functional.swift import cluster as swift_cluster

CONTAINER = '/v1/%s/middleware-test' % swift_cluster.ACCOUNT
CLIENTS = ('127.0.0.1', '127.0.0.2', '127.0.0.3', '127.0.0.4')
WHITELIST = {'deny_message': 'You shall not pass!',
             'deny_without_rules': 'true'}
# (column title, rule set by the owner before the column's requests)
STAGES = [
    ('no rule yet', None),
    ('allow-dev:127.0.0.2', '127.0.0.2'),
    ('allow-dev:127.0.0.2/31', '127.0.0.2/31'),
]


def start(progress):
    """Start the cluster; the caller must ``cleanUp()`` it."""
    cluster = swift_cluster.SwiftCluster(
        {'main': swift_cluster.ProxySpec(whitelist=WHITELIST,
                                         log_level='INFO')})
    progress.start('starting Swift: memcached, account, container, object, '
                   'proxy')
    cluster.setUp()
    progress.done()
    return cluster


def _owner(cluster, method, path, headers=None, body=None):
    """The account owner, from the proxy host (always allowed)."""
    headers = dict(headers or {}, **{'X-Auth-Token': cluster.token()})
    resp = cluster.request(method, path, headers, body, source=CLIENTS[0])
    if resp.status // 100 != 2:
        raise RuntimeError('%s %s as the owner answered %s %r' % (
            method, path, resp.status, resp.body[:200]))
    return resp


def _outcome(resp, bodies):
    if resp.status // 100 == 2:
        return '%d allowed' % resp.status
    bodies.add(resp.body.decode('utf-8', 'replace'))
    return '%d denied' % resp.status if resp.status == 403 else \
        '%d ERROR' % resp.status


def play(cluster, progress):
    """Return the table rows and the bodies of the refusals.

    A row per client, a column per stage.
    """
    progress.start('creating the container middleware-test as the owner')
    _owner(cluster, 'PUT', CONTAINER)
    _owner(cluster, 'PUT', CONTAINER + '/notes.txt', body=b'hello')
    progress.done()
    columns, bodies = [], set()
    for title, rule in STAGES:
        progress.start('%s: GET middleware-test from %d clients' % (
            title, len(CLIENTS)))
        if rule is not None:
            _owner(cluster, 'POST', CONTAINER,
                   {'X-Container-Meta-Allow-Dev': rule})
        token = cluster.token()
        columns.append([_outcome(cluster.request(
            'GET', CONTAINER, {'X-Auth-Token': token}, source=client),
            bodies) for client in CLIENTS])
        progress.done()
    rows = []
    for index, client in enumerate(CLIENTS):
        rows.append([client + (' (proxy)' if index == 0 else '')] +
                    [column[index] for column in columns])
    return rows, bodies


def denial_log_line(cluster):
    """The proxy's last denial log line, as the guide shows it."""
    for line in reversed(cluster.log_text('main').splitlines()):
        if 'denied access' in line:
            return line[line.index('ip_whitelist:'):].split(' (txn:')[0]
    return None
