#!/bin/bash
#
# devstack/plugin.sh - DevStack entry point of openstack-ext
#
# Enable with, in local.conf:
#
#   [[local|localrc]]
#   enable_plugin openstack-ext https://opendev.org/x/openstack-ext
#
# stack.sh sources this file as "plugin.sh <mode> [<phase>]". The plugin
# works in three phases:
#
# - stack install: pip install -e the package into DevStack's python;
# - stack post-config: DevStack has written nova.conf, api-paste.ini and
#   proxy-server.conf but started nothing yet: add the Nova scheduler filter
#   (and nova-api's stamp filter) and the Swift ip_whitelist middleware;
# - stack test-config: stack.sh has discovered the compute hosts: put them
#   into their IP pools' host aggregates (openstack-ext sync-pools); tell
#   tempest the scheduler filter is enabled.
#
# unstack has nothing to undo: stack.sh rewrites all those files from
# scratch. clean uninstalls the package and takes it out of the files that
# are still there (see openstack_ext_cleanup).

# Save trace setting; trace the plugin's own steps in the stack.sh log
_XTRACE_OPENSTACK_EXT=$(set +o | grep xtrace)
set -o xtrace

source "$(dirname "${BASH_SOURCE[0]}")/lib/openstack-ext"

if [[ "$1" == "stack" && "$2" == "install" ]]; then
    echo_summary "Installing openstack-ext"
    openstack_ext_install

elif [[ "$1" == "stack" && "$2" == "post-config" ]]; then
    echo_summary "Configuring openstack-ext for Nova and Swift"
    configure_openstack_ext_nova
    configure_openstack_ext_swift

elif [[ "$1" == "stack" && "$2" == "test-config" ]]; then
    # The first phase after stack.sh's nova-manage cell_v2 discover_hosts.
    echo_summary "Putting compute hosts into their IP pools"
    openstack_ext_sync_pools
    echo_summary "Configuring tempest for openstack-ext"
    configure_openstack_ext_tempest
fi

if [[ "$1" == "clean" ]]; then
    openstack_ext_cleanup
fi

# Restore xtrace
$_XTRACE_OPENSTACK_EXT
