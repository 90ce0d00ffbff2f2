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

"""audit-rules: finding the accounts, and the inventory's arithmetic."""

import os

import fixtures
from swift.account.backend import AccountBroker
from swift.common import utils
from swift.proxy.controllers import base as proxy_base
import testtools

from openstack_ext.cmd import audit_rules
from openstack_ext.swift import inventory
from openstack_ext.swift import operator_level


class TestAccountsOn(testtools.TestCase):

    def _db(self, devices, device, part, name, deleted=False):
        digest = utils.hash_path(name)
        path = os.path.join(devices, device, 'accounts', str(part),
                            digest[-3:], digest, digest + '.db')
        os.makedirs(os.path.dirname(path))
        broker = AccountBroker(path, account=name)
        broker.initialize(utils.Timestamp.now().internal)
        if deleted:
            broker.delete_db(utils.Timestamp.now().internal)

    def test_each_live_account_once(self):
        self.useFixture(fixtures.MonkeyPatch(
            'swift.common.utils.HASH_PATH_SUFFIX', b'suf'))
        devices = self.useFixture(fixtures.TempDir()).path
        for device in ('sdb1', 'sdc1'):  # two replicas on one node
            self._db(devices, device, 3, 'AUTH_a')
        self._db(devices, 'sdb1', 12, 'AUTH_b')
        self._db(devices, 'sdc1', 7, 'AUTH_gone', deleted=True)
        self._db(devices, 'sdc1', 7, '.expiring_objects')
        os.makedirs(os.path.join(devices, 'sdd1'))  # no accounts there
        self.assertEqual(['AUTH_a', 'AUTH_b'],
                         list(audit_rules.accounts_on(devices)))
        self.assertEqual([], list(audit_rules.accounts_on(
            os.path.join(devices, 'nothing'))))


class TestIneffective(testtools.TestCase):

    def levels(self, operator_rules, account_headers, container_headers):
        operator = operator_level.OperatorLevel({
            'AUTH_': operator_level.Default(operator_rules, None)})
        account = inventory.account_levels(
            operator, 'AUTH_a', proxy_base.headers_to_account_info(
                account_headers, 204))
        return account + [inventory.container_level(
            proxy_base.headers_to_container_info(container_headers, 204))]

    def test_a_union_of_networks_covers_what_it_covers(self):
        levels = self.levels(
            '192.0.2.0/25 192.0.2.128/25', {},
            {'X-Container-Sysmeta-Ip-Whitelist-Allow-A':
             '192.0.2.0/24 192.0.2.0/23 2001:db8::/64'})
        self.assertEqual([
            ('container', 'allow-a', '192.0.2.0/23', 'operator', 'part'),
            ('container', 'allow-a', '2001:db8::/64', 'operator', 'all')],
            inventory.ineffective(levels))
