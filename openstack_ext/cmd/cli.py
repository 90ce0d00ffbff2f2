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

"""The ``openstack-ext`` command: answers before a change goes live.

Each verb lives in its own module and imports Nova-side or Swift-side code
only when it runs, so the command works in a nova-only or a swift-only
environment for the verbs that concern it.
"""

import argparse
import sys

from openstack_ext.cmd import api_paste
from openstack_ext.cmd import audit_pools
from openstack_ext.cmd import audit_rules
from openstack_ext.cmd import check_pipeline
from openstack_ext.cmd import check_rule
from openstack_ext.cmd import explain_pool
from openstack_ext.cmd import pool_usage
from openstack_ext.cmd import repool
from openstack_ext.cmd import report
from openstack_ext.cmd import rules
from openstack_ext.cmd import stamp_servers
from openstack_ext.cmd import sync_pools

DESCRIPTION = """\
Ask what openstack-ext would do, before you deploy a change:

  explain-pool          which Nova IP pool (and hosts) a client address gets
  check-proxy-pipeline  is ip_whitelist placed and configured right in a
                        Swift proxy-server.conf (or an OpenStack-Ansible or
                        openstack-helm file)
  check-rule            is an allow-* container/account rule valid, and what
                        it covers
  stamp-servers         record a signed IP pool for Nova servers created
                        before ip_pool_stamp (and after a secret rotation)
  rules                 show or repair an account's or container's allow-*
                        rules and mode, without a token (Swift's internal
                        client); --operator: the operator's level
  rules verify          do all primaries of an account or container hold
                        the same ip_whitelist rules (--repair)
  audit-rules           every rule in the cluster, unprotected public
                        containers, and what an address can reach
  print-api-paste       Nova's api-paste.ini (or a deployment tool's
                        overrides) with ip_pool_stamp in both v2.1 pipelines
  sync-pools            keep each hostname IP pool in its Nova host
                        aggregate (after discover_hosts, and on a timer)
  audit-pools           find Nova servers outside their IP pool, unstamped
                        or badly stamped
  pool-usage            each IP pool's hosts, capacity, usage and room for
                        a flavor, from placement (text, JSON, Prometheus)
  repool                re-sign Nova servers' stamps for another IP pool
                        and optionally migrate them there

Run "openstack-ext VERB --help" for each verb's options and examples."""
EPILOG = """\
exit status: 0 no problem, 1 a problem was found (so that the command can
gate a deployment pipeline), 2 usage error. Run explain-pool where nova.conf
is readable (it needs oslo.config, not Nova), check-proxy-pipeline and
check-rule in the Swift proxy's environment (they need swift)."""


def build_parser():
    parser = argparse.ArgumentParser(
        prog='openstack-ext', description=DESCRIPTION, epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    subparsers = parser.add_subparsers(dest='verb', metavar='VERB')
    subparsers.required = True
    for verb in (explain_pool, check_pipeline, check_rule, stamp_servers,
                 rules, audit_rules, api_paste, sync_pools, audit_pools,
                 pool_usage, repool):
        verb.add_parser(subparsers)
    return parser


def main(argv=None, out=None):
    """Run the command; return its exit status (see ``--help``)."""
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    try:
        return args.run(args, out)
    except ImportError as error:
        if (error.name or '').split('.')[0] == 'openstack_ext':
            raise  # our own package is broken: not a missing service
        # e.g. check-proxy-pipeline in nova's environment, without swift.
        out.write('ERROR: %s: %s\nRun this verb in the environment of the '
                  'service it checks.\n' % (args.verb, error))
        return report.PROBLEMS


if __name__ == '__main__':
    sys.exit(main())
