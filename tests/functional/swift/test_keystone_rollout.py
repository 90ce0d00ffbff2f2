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

"""Audit mode, the lockout guard and the change trail under Keystone.

The owner is a user with an ``operator_roles`` role on the project; a
``member`` of it, or another project's user, is not. The trail names the
requester by Keystone's user and project ids.
"""

from tests.functional.swift import keystone as k

ADMIN, LISTED, OTHER = k.ADMIN, k.LISTED, k.OTHER
MODE = 'X-Container-Meta-Ip-Whitelist-Mode'


class TestKeystoneRollout(k.KeystoneClusterTestCase):

    def test_owner_audits_and_the_trail_names_keystone_ids(self):
        name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                         LISTED})
        secret = self.put_secret(path)
        # Nobody but the owner, from a listed address, switches to audit.
        for source, user in ((LISTED, 'member'), (LISTED, 'stranger'),
                             (OTHER, 'operator')):
            resp = self.req('POST', path, {MODE: 'audit'}, source=source,
                            user=user)
            self.assertIn(resp.status, (401, 403), (source, user, resp))
        self.assertIsNone(self.req('HEAD', path, source=ADMIN,
                                   user='operator').headers.get(MODE))
        mark = self.cluster.log_mark('main')
        self.assertEqual(204, self.req('POST', path, {MODE: 'audit'},
                                       source=LISTED,
                                       user='operator').status)
        needle = ('rule change by user %s (project %s) from %s on '
                  'Account=%s Container=%s (204): mode: '
                  "'enforce' -> 'audit'" % (
                      self.keystone.id_of('operator'),
                      self.keystone.id_of('project'), LISTED, self.account,
                      name))
        self.assertIn(needle, self.cluster.wait_for_log('main', needle,
                                                        mark))
        # In audit, the unlisted read goes through, and is logged.
        resp = self.req('GET', path + '/o', user='operator')
        self.assertEqual((200, secret), (resp.status, resp.body))
        self.cluster.wait_for_log('main', 'would be denied access', mark)
        self.assertEqual('audit', self.req('HEAD', path, source=ADMIN,
                                           user='operator').headers[MODE])
        # Enforced again: refused.
        self.assertEqual(204, self.req('POST', path, {MODE: 'enforce'},
                                       source=LISTED,
                                       user='operator').status)
        self.assertIPDenied(self.req('GET', path + '/o', user='operator'))

    def test_lockout_guard(self):
        _name, path = self.new_container({'X-Container-Meta-Allow-Dev':
                                          LISTED})
        resp = self.req('POST', path, {'X-Container-Meta-Allow-Dev': OTHER},
                        source=LISTED, user='operator')
        self.assertEqual(409, resp.status, resp)
        self.assertIn(LISTED.encode(), resp.body)
        resp = self.req('POST', path, {
            'X-Container-Meta-Allow-Dev': OTHER,
            'X-Ip-Whitelist-Confirm-Lockout': 'yes'}, source=LISTED,
            user='operator')
        self.assertEqual(204, resp.status, resp)
        # Now only the other address reads (an empty listing: 204).
        self.assertEqual(204, self.req('GET', path, source=OTHER,
                                       user='operator').status)
        self.assertIPDenied(self.req('GET', path, source=LISTED,
                                     user='operator'))
