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

"""Load the configuration the plugin produced with the real services.

Run as a script, in a process of its own (Nova's configuration and Swift's
hash settings are process-wide), by test_services.py::

    service_probe.py swift <workdir> <proxy-server.conf> <address>...
    service_probe.py nova-scheduler <workdir> <nova.conf>
    service_probe.py nova-api <workdir> <nova.conf> <api-paste.ini>

Each prints one JSON document. Only what cannot exist on a test machine is
replaced, in copies under <workdir>: Swift's rings and swift.conf (built
here, and swift_dir pointed at them), Nova's message bus (the fake
oslo.messaging driver) and its databases (not touched: the host manager's
methods that read cells, aggregates and instances are stubbed).
"""

import hashlib
import ipaddress
import json
import os
import sys
from unittest import mock

MAX_DEPTH = 100


def _chain(app):
    """Module.Class of each WSGI app from ``app`` inwards."""
    names = []
    for _step in range(MAX_DEPTH):
        if app is None:
            break
        names.append('%s.%s' % (type(app).__module__, type(app).__name__))
        app = (getattr(app, 'application', None) or
               getattr(app, 'app', None) or getattr(app, '_app', None))
    return names


def swift(workdir, conf_path, *candidates):
    from swift.common.ring import RingBuilder
    from swift.common import swob
    from swift.common import utils
    from swift.common import wsgi

    swift_dir = os.path.join(workdir, 'swift')
    os.makedirs(swift_dir, exist_ok=True)
    with open(os.path.join(swift_dir, 'swift.conf'), 'w') as f:
        f.write('[swift-hash]\nswift_hash_path_suffix = devstack\n'
                '[storage-policy:0]\nname = Policy-0\ndefault = yes\n')
    for name in ('account', 'container', 'object'):
        builder = RingBuilder(4, 1, 0)
        builder.add_dev({'id': 0, 'region': 1, 'zone': 1, 'weight': 1,
                         'ip': '127.0.0.1', 'port': 6200, 'device': 'sdb1'})
        builder.rebalance()
        builder.get_ring().save(os.path.join(swift_dir, name + '.ring.gz'))
    utils.set_swift_dir(swift_dir)

    with open(conf_path) as f:
        lines = f.read().splitlines()
    copy = os.path.join(workdir, 'proxy-server.conf')
    with open(copy, 'w') as f:
        for line in lines:
            if line.split('=')[0].strip() == 'swift_dir':
                line = 'swift_dir = ' + swift_dir
            f.write(line + '\n')

    app = wsgi.loadapp(copy)
    chain = _chain(app)
    whitelist = app
    while whitelist is not None and not type(whitelist).__module__.startswith(
            'openstack_ext.'):
        whitelist = (getattr(whitelist, 'app', None) or
                     getattr(whitelist, '_app', None))
    result = {'pipeline': chain}
    if whitelist is not None:
        # What the filter parsed (openstack_ext.swift.conf), where it
        # keeps it.
        result['deny_message'] = whitelist.judge.forbidden.body
        result['always_allow'] = {
            a: ipaddress.ip_address(a) in whitelist.options.always_allow
            for a in candidates}
        result['trusted_proxies'] = {
            a: ipaddress.ip_address(a) in
            whitelist.client_address.trusted_proxies for a in candidates}
    # DevStack's "is the proxy up" probe, from this host and (tls-proxy)
    # through Apache on this host.
    info = swob.Request.blank(
        '/info', environ={'REMOTE_ADDR': candidates[0]},
        headers={'X-Forwarded-For': candidates[0]}).get_response(app)
    result['info_status'] = info.status_int
    result['info_sections'] = sorted(json.loads(info.body)) \
        if info.status_int == 200 else []
    return result


def _nova_conf(workdir, conf_path):
    import nova.conf

    override = os.path.join(workdir, 'no-message-bus.conf')
    with open(override, 'w') as f:
        f.write('[DEFAULT]\ntransport_url = fake:/\n')
    conf = nova.conf.CONF
    conf([], project='nova', default_config_files=[conf_path, override])
    return conf


def nova_scheduler(workdir, conf_path):
    conf = _nova_conf(workdir, conf_path)
    from nova.scheduler import host_manager

    cls = host_manager.HostManager
    with mock.patch.object(cls, 'refresh_cells_caches'), \
            mock.patch.object(cls, '_init_aggregates'), \
            mock.patch.object(cls, '_init_instance_info'):
        manager = cls()
    result = {
        'enabled': ['%s.%s' % (type(f).__module__, type(f).__name__)
                    for f in manager.enabled_filters],
    }
    if 'ip_pools' in conf:
        pools = dict(conf.ip_pools.items())
        secret = pools.pop('stamp_secret', None)
        # A list since secrets rotate: the signing one.
        signing = (secret or [''])[0]
        pools['stamp_secret_length'] = len(signing)
        pools['stamp_secret_sha256'] = hashlib.sha256(
            signing.encode('utf-8')).hexdigest()
        result['ip_pools'] = pools
    return result


def nova_api(workdir, conf_path, paste_path):
    conf = _nova_conf(workdir, conf_path)
    from nova import rpc
    from paste import deploy

    rpc.init(conf)
    return {name: _chain(deploy.loadapp('config:' + paste_path, name=name))
            for name in ('openstack_compute_api_v21',
                         'openstack_compute_api_v21_legacy_v2_compatible')}


def main(argv):
    probes = {'swift': swift, 'nova-scheduler': nova_scheduler,
              'nova-api': nova_api}
    result = probes[argv[1]](*argv[2:])
    sys.stdout.write('PROBE-RESULT ' + json.dumps(result) + '\n')


if __name__ == '__main__':
    main(sys.argv)
