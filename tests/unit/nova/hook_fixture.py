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

"""Nova's request filters as Nova ships them, during one test."""

import fixtures
from nova.scheduler import manager
from nova.scheduler import request_filter

from openstack_ext.nova import placement_hook


class PlacementHookIsolation(fixtures.Fixture):
    """Undo :func:`placement_hook.install` at the end of the test.

    Also starts the test with Nova's own ``select_destinations``.

    The hook stays installed for the life of a scheduler process; tests
    start many schedulers in one process.
    """

    def _setUp(self):
        self.useFixture(fixtures.MonkeyPatch(
            'nova.scheduler.request_filter.ALL_REQUEST_FILTERS',
            [f for f in request_filter.ALL_REQUEST_FILTERS
             if not hasattr(f, placement_hook._MARK)]))
        # Set by hand: fixtures.MonkeyPatch would wrap Nova's function.
        installed = manager.SchedulerManager.select_destinations
        manager.SchedulerManager.select_destinations = getattr(
            installed, '_openstack_ext_wraps', installed)
        self.addCleanup(setattr, manager.SchedulerManager,
                        'select_destinations', installed)
