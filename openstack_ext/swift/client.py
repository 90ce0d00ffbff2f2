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

"""Who the client of a request is, as the ip_whitelist judges it.

``REMOTE_ADDR``; ``X-Forwarded-For`` is believed only from
``trusted_proxies``, walked right to left while the hops are trusted
(:func:`openstack_ext.addresses.forwarded_client`).

What each ``(REMOTE_ADDR, X-Forwarded-For)`` pair names depends on nothing
else (the options are the process's): the answers for the last few
thousand pairs are kept, and a full table is emptied.
"""

from openstack_ext import addresses
from openstack_ext.swift import decision

KEPT_PAIRS = 4096
# A longer header is parsed each time rather than kept.
MAX_KEPT_FORWARDED_FOR = 128


class ClientAddress(object):
    """The client address of a request's environment, or ``None``."""

    def __init__(self, options, trusted_proxies, logger):
        self.options = options
        self.trusted_proxies = trusted_proxies
        self.logger = logger
        self._warned_forwarders = set()
        self._known = {}  # (peer, forwarded_for): client

    def __call__(self, env):
        """The original client's address, or ``None``: unknown, refused."""
        key = (env.get('REMOTE_ADDR'), env.get('HTTP_X_FORWARDED_FOR'))
        try:
            return self._known[key]
        except KeyError:
            pass
        except TypeError:  # not strings: a broken environment, not kept
            return self._client(*key)
        client = self._client(*key)
        forwarded_for = key[1]
        if forwarded_for is None or isinstance(forwarded_for, str) and \
                len(forwarded_for) <= MAX_KEPT_FORWARDED_FOR:
            if len(self._known) >= KEPT_PAIRS:
                self._known.clear()
            self._known[key] = client
        return client

    def _client(self, peer, forwarded_for):
        client = addresses.forwarded_client(peer, forwarded_for,
                                            self.trusted_proxies)
        if forwarded_for and client is not None and \
                client not in self.trusted_proxies and \
                decision.always_allowed(client, self.options) and \
                client == addresses.parse_address(peer):
            # The peer itself, an address of ours, forwards for somebody
            # else (a TLS terminator on the proxy host that trusted_proxies
            # does not list): always allowing it would open every container
            # to its clients.
            self._warn_untrusted_forwarder(client)
            return None
        return client

    def _warn_untrusted_forwarder(self, peer):
        if peer not in self._warned_forwarders:
            self._warned_forwarders.add(peer)
            self.logger.warning(
                'ip_whitelist: %s, in always_allow, forwards requests '
                '(X-Forwarded-For) but is not in trusted_proxies: its '
                'requests get what an unknown client gets; list it in '
                'trusted_proxies if it is a proxy of yours', peer)
