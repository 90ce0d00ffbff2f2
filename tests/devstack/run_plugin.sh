#!/bin/bash
#
# run_plugin.sh <stack|unstack|clean> - drive devstack/plugin.sh the way
# stack.sh, unstack.sh and clean.sh do, against the files under $FAKE_WORK
#
# stack runs the phases in stack.sh's order, with post-config twice, and
# around them the DevStack steps that matter to the plugin:
#
# - before post-config, stack.sh starts configure_neutron_nova in the
#   background (async_runfunc), which goes on editing nova.conf;
# - after post-config it waits for it and starts the services;
# - after extra, lib/tempest writes tempest.conf, copying NOVA_FILTERS.
#
# A copy of the configuration files is kept after each phase in
# $FAKE_WORK/snapshots/<n>-<phase>/ for the tests to compare.
#
# FAKE_ASYNC_WAIT=noop makes async_wait do nothing: a negative control for
# the race probe.

set -o errexit
set -o pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PLUGIN_DIR=$(cd "$HERE/../../devstack" && pwd)
MODE=$1

source "$HERE/fake_devstack.sh"
trap _fake_async_cleanup EXIT

if [[ ${FAKE_ASYNC_WAIT:-} == noop ]]; then
    function async_wait {
        :
    }
fi

SNAPSHOT=0
function snapshot {
    local dir
    SNAPSHOT=$((SNAPSHOT + 1))
    dir=$FAKE_WORK/snapshots/$MODE-$SNAPSHOT-$1
    mkdir -p "$dir"
    cp -p "$NOVA_CONF" "$NOVA_API_PASTE_INI" "$SWIFT_CONF_DIR/proxy-server.conf" "$dir/" 2> /dev/null || true
    if [[ -f $TEMPEST_CONFIG ]]; then
        cp -p "$TEMPEST_CONFIG" "$dir/"
    fi
}

function plugin {
    echo "== plugin.sh $*"
    source "$PLUGIN_DIR/plugin.sh" "$@"
}

# Stands for lib/nova's configure_neutron_nova: slow, and it rewrites
# nova.conf while the plugins' post-config runs.
function configure_neutron_nova {
    sleep "${FAKE_NEUTRON_NOVA_DELAY:-0.5}"
    iniset "$NOVA_CONF" neutron auth_type password
    iniset "$NOVA_CONF" neutron auth_url "https://$SERVICE_HOST/identity"
    iniset "$NOVA_CONF" neutron username nova
    iniset "$NOVA_CONF" neutron region_name RegionOne
    iniset "$NOVA_CONF" neutron service_metadata_proxy True
}

# run_phase source
source "$PLUGIN_DIR/settings"

case $MODE in
    stack)
        plugin stack pre-install
        plugin stack install
        snapshot install
        if is_service_enabled nova; then
            async_runfunc configure_neutron_nova
        fi
        plugin stack post-config
        snapshot post-config
        plugin stack post-config
        snapshot post-config-again
        # stack.sh, before start_nova
        _fake_async_wait configure_neutron_nova
        snapshot services-started
        plugin stack extra
        snapshot extra
        if is_service_enabled tempest; then
            # lib/tempest's configure_tempest
            mkdir -p "$(dirname "$TEMPEST_CONFIG")"
            iniset "$TEMPEST_CONFIG" compute-feature-enabled scheduler_enabled_filters "$NOVA_FILTERS"
        fi
        plugin stack test-config
        snapshot test-config
        ;;
    unstack|clean)
        plugin "$MODE"
        snapshot "$MODE"
        ;;
    *)
        echo "usage: $0 stack|unstack|clean" >&2
        exit 2
        ;;
esac
