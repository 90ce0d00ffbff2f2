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

"""The addresses of the host the proxy runs on (``always_allow = auto``).

Every address of every interface, as Swift's own
``swift.common.utils.whataremyips()`` reads them from the kernel
(``getifaddrs``: secondary addresses and /32 VIPs included), rather than
``gethostbyname(gethostname())`` (the 2013 guide's way), which answers
``127.0.1.1`` on Debian and misses every real interface. Of the loopback
addresses only 127.0.0.1 and ::1 are included, so local tools can still
bind 127.0.0.2, 127.0.0.3... and be outside clients.
"""

from swift.common.utils import whataremyips

from openstack_ext import addresses

LOOPBACK_ADDRESSES = ('127.0.0.1', '::1')


def local_addresses(found=None):
    """Return the host's interface addresses plus 127.0.0.1 and ::1.

    :param found: addresses to use instead of asking the kernel.
    """
    result = set(addresses.parse_address(a) for a in LOOPBACK_ADDRESSES)
    for text in whataremyips() if found is None else found:
        address = addresses.parse_address(text)
        if not address.is_loopback:
            result.add(address)
    return sorted(result, key=lambda a: (a.version, a))
