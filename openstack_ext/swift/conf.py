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

"""The ``[filter:ip_whitelist]`` options, read once at start.

Each option is parsed here and only here; a bad value raises
``ValueError`` naming the option and the value, which stops the proxy.
The options are described in the operator manual,
:mod:`openstack_ext.swift.ip_whitelist`.
"""

import collections
import math

from swift.common import utils

from openstack_ext import addresses
from openstack_ext.swift import decision
from openstack_ext.swift.local_addresses import local_addresses
from openstack_ext.swift import operator_level
from openstack_ext.swift import rules

# Networks one account or container may list: bounds what a request for it
# costs (parsing 1,000 networks takes ~11 ms, once per rule set and proxy).
DEFAULT_MAX_RULES = 1000
FALSE_VALUES = ('false', '0', 'no', 'off', 'f', 'n')  # TRUE_VALUES' pairs

Config = collections.namedtuple('Config', 'options deny_message '
                                'trusted_proxies max_rules rules_cache_time '
                                'operator replica_reads')


def parse(conf):
    """The :data:`Config` of a filter's paste *conf*.

    :raises ValueError: naming the first bad option and its value.
    """
    return Config(
        options=decision.Options(
            always_allow=_networks(conf, 'always_allow', 'auto'),
            deny_without_rules=utils.config_true_value(
                conf.get('deny_without_rules', 'false')),
            mode=mode(conf)),
        deny_message=conf.get('deny_message', 'IP Denied'),
        trusted_proxies=_networks(conf, 'trusted_proxies', ''),
        max_rules=max_rules(conf),
        rules_cache_time=rules_cache_time(conf),
        operator=operator_level.OperatorLevel(
            operator_rules(conf), mode(conf, 'operator_mode')),
        replica_reads=replica_reads(conf))


def _networks(conf, option, default):
    """A list option of networks (``auto``: this host's own addresses)."""
    networks = []
    for entry in addresses.split_list(conf.get(option, default)):
        if entry == 'auto' and option == 'always_allow':
            networks.extend(addresses.parse_network(str(a))
                            for a in local_addresses())
            continue
        try:
            networks.append(addresses.parse_network(entry))
        except ValueError as error:
            raise ValueError('ip_whitelist: invalid %s value: %s'
                             % (option, error))
    return addresses.NetworkSet(networks)


def mode(conf, option='mode'):
    """``enforce`` (the default) or ``audit``: see decision.decide."""
    text = conf.get(option, rules.ENFORCE)
    if text.strip().lower() not in rules.MODES:
        raise ValueError('ip_whitelist: invalid %s value: %r (enforce or '
                         'audit)' % (option, text))
    return text.strip().lower()


def operator_rules(conf):
    """``{reseller prefix: operator_level.Default}`` of ``operator_rules``.

    ``PREFIX=networks`` entries separated by ``;``, e.g.
    ``SERVICE_=10.0.0.0/8 172.16.0.0/12; AUTH_ops_=192.0.2.0/24``.
    """
    text = conf.get('operator_rules', '')
    defaults = {}
    for entry in filter(None, (e.strip() for e in text.split(';'))):
        prefix, sep, value = (part.strip() for part in entry.partition('='))
        error = None
        if not sep or not prefix or any(c in prefix for c in ' ,/'):
            error = '%r is not PREFIX=networks' % entry
        elif prefix in defaults:
            error = 'prefix %s is given twice' % prefix
        elif not addresses.split_list(value):
            error = 'prefix %s lists no network' % prefix
        else:
            networks, bad = rules.parse_values((value,))
            if bad:
                error = 'prefix %s: invalid %s' % (prefix, ', '.join(bad))
        if error:
            raise ValueError('ip_whitelist: invalid operator_rules value: '
                             '%r: %s' % (text, error))
        defaults[prefix] = operator_level.Default(value, networks)
    return defaults


def max_rules(conf):
    text = conf.get('max_rules', DEFAULT_MAX_RULES)
    try:
        return utils.config_positive_int_value(text)
    except ValueError:
        raise ValueError('ip_whitelist: invalid max_rules value: %r (a whole '
                         'number of at least 1)' % (text,))


def rules_cache_time(conf):
    text = conf.get('rules_cache_time', 0)
    try:
        seconds = utils.config_float_value(text, minimum=0)
    except ValueError:
        seconds = None
    if seconds is None or not math.isfinite(seconds):
        raise ValueError('ip_whitelist: invalid rules_cache_time value: %r '
                         '(seconds, 0 or more)' % (text,))
    return seconds


def replica_reads(conf):
    """``'rules'`` (the default), ``'all'`` or ``'off'``."""
    text = str(conf.get('replica_reads', 'true')).strip().lower()
    if text == 'all':
        return 'all'
    if text in utils.TRUE_VALUES:
        return 'rules'
    if text in FALSE_VALUES:
        return 'off'
    raise ValueError('ip_whitelist: invalid replica_reads value: %r (true, '
                     'all or false)' % (conf.get('replica_reads'),))
