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

"""The change trail's lines, one example per branch."""

import ipaddress

import testtools

from openstack_ext.swift import trail


def change(old, new):
    return trail.Change('AUTH_a', 'c', old, new, 'test:tester', '192.0.2.7')


class TestTrail(testtools.TestCase):

    def test_named_values_of_an_info(self):
        info = {'sysmeta': {'ip-whitelist-allow-dev': '192.0.2.1',
                            'ip-whitelist-mode': 'audit'},
                'meta': {'allow-dev': '10.0.0.1', 'allow-old': '10.0.0.2'}}
        # The sysmeta copy of a name wins over the guide-era one.
        self.assertEqual({'allow-dev': '192.0.2.1', 'allow-old': '10.0.0.2',
                          'mode': 'audit'}, trail.named(info))
        self.assertEqual({'mode': 'enforce'}, trail.named({}))

    def test_only_what_changes_is_described(self):
        self.assertEqual(
            "allow-dev: '192.0.2.1' -> '192.0.2.0/24'; allow-new: (none) -> "
            "'10.0.0.0/8'; allow-old: '10.0.0.2' -> (removed); mode: "
            "'enforce' -> 'audit'", trail.describe(change(
                {'allow-dev': '192.0.2.1', 'allow-old': '10.0.0.2',
                 'allow-same': '10.9.9.9', 'mode': 'enforce'},
                {'allow-dev': '192.0.2.0/24', 'allow-new': '10.0.0.0/8',
                 'allow-same': '10.9.9.9', 'mode': 'audit'})))
        self.assertEqual('no change', trail.describe(change(
            {'mode': 'enforce'}, {'mode': 'enforce'})))

    def test_deletes_and_attempts(self):
        old = {'allow-dev': '192.0.2.1', 'mode': 'enforce'}
        self.assertEqual("deleted, with allow-dev: '192.0.2.1'",
                         trail.describe(change(old, None)))
        self.assertEqual("writes allow-dev: 'junk'; mode: 'audit'",
                         trail.describe(change(None, {'allow-dev': 'junk',
                                                      'mode': 'audit'})))

    def test_requester(self):
        self.assertEqual('user u1 (project p1)', trail.requester({
            'HTTP_X_USER_ID': 'u1', 'HTTP_X_PROJECT_ID': 'p1',
            'REMOTE_USER': 'ignored'}))
        self.assertEqual('test:tester', trail.requester({
            'REMOTE_USER': 'test,test:tester,AUTH_test'}))
        self.assertEqual('an anonymous client', trail.requester({}))

    def test_client(self):
        self.assertEqual('192.0.2.7', trail.client_text(
            ipaddress.ip_address('192.0.2.7')))
        self.assertIn('unknown', trail.client_text(None))
