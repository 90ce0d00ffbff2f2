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

"""What the pools read and write in Nova that is not Nova's interface.

Everything here leans on Nova's internals; nothing else in openstack-ext
does, apart from the two hook points that
:mod:`openstack_ext.nova.placement_hook` checks. :func:`problems` checks
what this module relies on when nova-scheduler starts.

* The client address of a request: ``RequestSpec._context.remote_address``.
  nova-api sets ``remote_address`` on the request context, the context
  crosses RPC with it, and the scheduler's deserialised RequestSpec keeps
  it as ``_context``.
* Per-request notes on the scheduler's own RequestSpec object: the pool
  decided for the request (so that the placement hook and the host filter
  decide once), the placement constraint the hook added (for the fault
  and the catch-up), and the scheduler's host manager. They are plain
  Python attributes, not object fields: never serialised, never saved,
  gone with the request.
* The host aggregates the scheduler keeps in memory: ``HostManager``
  loads them at start and Nova's aggregate API (and ``sync-pools``) tell
  every scheduler of each change (``update_aggregates``); the host
  manager keeps them in ``aggs_by_id``. The placement hook reads the
  pools' aggregates there, so a request reads no database.
* New host mappings since a known one: the ``host_mappings`` table of the
  API database, read by primary key (``id > N``, the host name only), so
  that a scheduler can find hosts discovered since it last looked at the
  cost of the new rows only. Nova's ``HostMappingList`` can only load
  every row with its cell.
"""

from nova.db.api import api as api_db
from nova.db.api import models as api_models
from nova.scheduler import host_manager as host_manager_module

_DECISION = '_openstack_ext_ip_pool'
_CONSTRAINT = '_openstack_ext_pool_constraint'
_HOST_MANAGER = '_openstack_ext_host_manager'


def remote_address(spec_obj):
    """The address nova-api saw for the request, or ``None``."""
    context = getattr(spec_obj, '_context', None)
    return getattr(context, 'remote_address', None)


def decision(spec_obj):
    """The pool decision noted on *spec_obj*, or ``None``."""
    return getattr(spec_obj, _DECISION, None)


def note_decision(spec_obj, value):
    setattr(spec_obj, _DECISION, value)


def constraint(spec_obj):
    """The placement constraint noted on *spec_obj*, or ``None``."""
    return getattr(spec_obj, _CONSTRAINT, None)


def note_constraint(spec_obj, value):
    setattr(spec_obj, _CONSTRAINT, value)


def note_host_manager(spec_obj, host_manager):
    setattr(spec_obj, _HOST_MANAGER, host_manager)


def host_manager(spec_obj):
    """The scheduler's HostManager noted on *spec_obj*, or ``None``."""
    return getattr(spec_obj, _HOST_MANAGER, None)


def aggregates_in_memory(host_manager):
    """The host aggregates *host_manager* keeps, or ``None``."""
    found = getattr(host_manager, 'aggs_by_id', None)
    return None if found is None else list(found.values())


def host_mappings_after(ctxt, last_id, limit):
    """``[(id, host)]`` of up to *limit* host mappings after *last_id*."""
    mapping = api_models.HostMapping
    with api_db.context_manager.reader.using(ctxt) as session:
        rows = session.query(mapping.id, mapping.host).filter(
            mapping.id > last_id).order_by(mapping.id).limit(limit).all()
    return [(row[0], row[1]) for row in rows]


def problems():
    """What this Nova lacks of the above, as a list of sentences."""
    found = []
    names = getattr(getattr(getattr(host_manager_module, 'HostManager', None),
                            '__init__', None), '__code__', None)
    if 'aggs_by_id' not in getattr(names, 'co_names', ()):
        found.append('nova.scheduler.host_manager.HostManager does not keep '
                     'its aggregates in aggs_by_id')
    for column in ('id', 'host'):
        if not hasattr(getattr(api_models, 'HostMapping', None), column):
            found.append('nova.db.api.models.HostMapping has no %s' % column)
    reader = getattr(getattr(api_db, 'context_manager', None), 'reader',
                     None)
    if not callable(getattr(reader, 'using', None)):
        found.append('nova.db.api.api.context_manager has no reader')
    return found
