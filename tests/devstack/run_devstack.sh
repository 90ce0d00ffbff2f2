#!/bin/bash
#
# run_devstack.sh <stack|unstack|clean> - run the plugin inside DevStack's
# own function library, the way stack.sh, unstack.sh and clean.sh do
#
# Nothing of DevStack is imitated: this sources DevStack's functions,
# stackrc, lib/* and extras.d, turns local.conf into .localrc.auto with
# DevStack's extract_localrc_section, registers the plugin with
# enable_plugin and runs run_phase and merge_config_group in stack.sh's
# order. DevStack's configure_swift and configure_nova (create_nova_conf)
# write the files the plugin edits, configure_neutron_nova rewrites
# nova.conf in the background across post-config, configure_tempest writes
# tempest.conf. Only what touches the machine is replaced, after the
# library is sourced (see "Stand-ins" below): package installs, git,
# service starts, the cloud's API (openstack), and sudo outside the work
# directory; /etc/nova, fixed in lib/nova, is moved into the work directory.
#
# Environment (set by harness.py):
#   OPENSTACK_EXT_TEST_WORK  the host's root: devstack/ (DevStack's files,
#                            linked, plus local.conf), opt/stack, etc/
#   DEVSTACK_DIR             DevStack's tree (read only)
#   SWIFT_SOURCE_DIR         a Swift source tree (etc/*-sample), for
#                            configure_swift's copies
#   NOVA_SOURCE_DIR          a tree with etc/nova/api-paste.ini
#   PROBE_ASYNC_WAIT=noop    negative control: the plugin's async_wait does
#                            nothing
#
# After each phase the service files are copied to
# $OPENSTACK_EXT_TEST_WORK/snapshots/<mode>-<n>-<phase>/.

# As stack.sh: stop at the first failing command (errexit, not pipefail,
# which DevStack's own code does not expect), and say where.
set -o errexit
set -o errtrace
trap 'echo "run_devstack.sh: failed: ${BASH_SOURCE[0]}:$LINENO: $BASH_COMMAND" >&2' ERR
# As stack.sh's exit_trap: a stack that stops leaves no async job behind
# (one waiting on its fifo would keep the output open for ever).
trap 'jobs=$(jobs -p); [[ -z $jobs ]] || kill $jobs 2> /dev/null || true' EXIT

MODE=$1
WORK=${OPENSTACK_EXT_TEST_WORK:?OPENSTACK_EXT_TEST_WORK must name the host directory}
: "${DEVSTACK_DIR:?DEVSTACK_DIR must name the DevStack tree}"
TOP_DIR=$WORK/devstack
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# DevStack's tree, linked entry by entry, so that its own files are used
# as they are while the files stack.sh writes next to them (.localrc.auto,
# .stackenv) land in the work directory.
if [[ ! -e $TOP_DIR/functions ]]; then
    mkdir -p "$TOP_DIR"
    for entry in "$DEVSTACK_DIR"/* "$DEVSTACK_DIR"/.[!.]*; do
        [[ -e $entry && $(basename "$entry") != .git ]] || continue
        ln -s "$entry" "$TOP_DIR/$(basename "$entry")"
    done
fi
cd "$TOP_DIR"

source "$TOP_DIR/functions"
# stack.sh's install_prereqs installs gawk, which merge_config_file needs.
if ! type -p gawk > /dev/null; then
    die $LINENO "gawk is not installed (DevStack's files/debs/general; tools/bootstrap.sh installs it)"
fi
# stack.sh's install_prereqs installs uuid-runtime, which lib/neutron uses
# while it is sourced.
if ! type -p uuidgen > /dev/null; then
    function uuidgen {
        cat /proc/sys/kernel/random/uuid
    }
fi
FILES=$TOP_DIR/files
rm -f "$TOP_DIR/.localrc.auto"
extract_localrc_section "$TOP_DIR/local.conf" "$TOP_DIR/localrc" "$TOP_DIR/.localrc.auto"
source "$TOP_DIR/stackrc"
# stack.sh creates the log directory, where die's err() appends
if [[ -n ${LOGDIR:-} ]]; then
    mkdir -p "$LOGDIR"
fi


# Swift's and Nova's trees (DevStack would have cloned them to $DEST).
mkdir -p "$DEST"
for project in swift:${SWIFT_SOURCE_DIR:-} nova:${NOVA_SOURCE_DIR:-}; do
    if [[ -n ${project#*:} && ! -e $DEST/${project%%:*} ]]; then
        ln -s "${project#*:}" "$DEST/${project%%:*}"
    fi
done
# The plugin, as enable_plugin's git_clone would have put it there.
if [[ ! -e $DEST/openstack-ext ]]; then
    ln -s "$(cd "$HERE/../.." && pwd)" "$DEST/openstack-ext"
fi


# stack.sh's sources
# ------------------

function source_libs {
    local lib
    for lib in "$@"; do
        source "$TOP_DIR/lib/$lib"
    done
    # lib/nova fixes NOVA_CONF_DIR to /etc/nova: the host's /etc is the
    # work directory's.
    NOVA_CONF_DIR=$WORK/etc/nova
    NOVA_CONF=$NOVA_CONF_DIR/nova.conf
    NOVA_COND_CONF=$NOVA_CONF_DIR/nova.conf
    NOVA_CPU_CONF=$NOVA_CONF_DIR/nova-cpu.conf
    NOVA_FAKE_CONF=$NOVA_CONF_DIR/nova-fake.conf
    NOVA_UWSGI_CONF=$NOVA_CONF_DIR/nova-api-uwsgi.ini
    NOVA_METADATA_UWSGI_CONF=$NOVA_CONF_DIR/nova-metadata-uwsgi.ini
    NOVA_API_PASTE_INI=$NOVA_CONF_DIR/api-paste.ini
}

SNAPSHOT=0
function snapshot {
    local dir file
    SNAPSHOT=$((SNAPSHOT + 1))
    dir=$WORK/snapshots/$MODE-$SNAPSHOT-$1
    mkdir -p "$dir"
    for file in "$NOVA_CONF" "$NOVA_API_PASTE_INI" "$SWIFT_CONF_DIR/proxy-server.conf" "${TEMPEST_CONFIG:-}"; do
        if [[ -f $file ]]; then
            cp -p "$file" "$dir/"
        fi
    done
}

# The nova.conf race probe: a write to nova.conf by stack.sh's own shell
# while configure_neutron_nova runs in the background and has not been
# waited for is recorded in $RACES (with DEVSTACK_PARALLEL=False it runs in
# that shell itself: its own writes are no race). DevStack's iniset is wrapped, not
# replaced.
function _probe_races {
    eval "$(declare -f iniset | sed '1s/^iniset/_devstack_iniset/')"
    function iniset {
        local file=$1
        [[ $file == -sudo ]] && file=$2
        if [[ $BASHPID == "$MAIN_PID" && $file == "$NOVA_CONF" && -f $DEST/async/configure_neutron_nova.ini ]]; then
            if [[ " ${FUNCNAME[*]} " != *" _devstack_configure_neutron_nova "* ]]; then
                echo "RACE: $file ${*: -3:1} ${*: -2:1}" >> "$RACES"
            fi
        fi
        _devstack_iniset "$@"
    }
    # Slow, so that it overlaps the plugins' post-config as on a real host.
    eval "$(declare -f configure_neutron_nova | sed '1s/^configure_neutron_nova/_devstack_configure_neutron_nova/')"
    function configure_neutron_nova {
        sleep "${NEUTRON_NOVA_DELAY:-0.5}"
        _devstack_configure_neutron_nova
    }
    if [[ ${PROBE_ASYNC_WAIT:-} == noop ]]; then
        eval "$(declare -f async_wait | sed '1s/^async_wait/_devstack_async_wait/')"
        function async_wait {
            if [[ ${BASH_SOURCE[1]} == */openstack-ext/* ]]; then
                return 0
            fi
            _devstack_async_wait "$@"
        }
    fi
}

function plugin_phase {
    echo "== run_phase $*"
    run_phase "$@"
}

case $MODE in
    stack)
        async_init
        source_libs database rpc_backend host
        run_phase override_defaults
        source_libs apache tls infra libraries lvm horizon keystone glance \
            nova placement cinder swift neutron ldap dstat atop tcpdump \
            etcd3 os-vif
        run_phase source
        source "$HERE/stand_ins.sh"
        _probe_races

        plugin_phase stack pre-install
        if is_service_enabled swift; then
            configure_swift
        fi
        if is_service_enabled nova; then
            configure_nova
        fi
        snapshot configured
        plugin_phase stack install
        snapshot install

        if is_service_enabled nova; then
            async_runfunc configure_neutron_nova
        fi
        plugin_phase stack post-config
        snapshot post-config
        plugin_phase stack post-config
        snapshot post-config-again
        merge_config_group "$TOP_DIR/local.conf" post-config
        snapshot merged
        if is_service_enabled swift; then
            start_swift
        fi
        async_wait configure_neutron_nova
        if is_service_enabled nova; then
            iniset "$NOVA_CONF" key_manager fixed_key "${FIXED_KEY:-bae3516cc1c0eb18b05440eba8012a4a}"
        fi
        snapshot services-started

        merge_config_group "$TOP_DIR/local.conf" extra
        plugin_phase stack extra
        merge_config_group "$TOP_DIR/local.conf" post-extra
        snapshot extra
        plugin_phase stack test-config
        merge_config_group "$TOP_DIR/local.conf" test-config
        snapshot test-config
        ;;
    unstack)
        source_libs database apache tls infra lvm horizon keystone glance \
            nova placement cinder swift neutron ldap dstat atop tcpdump etcd3
        for extra in "$TOP_DIR"/extras.d/*.sh; do
            source "$extra" source
        done
        load_plugin_settings
        source "$HERE/stand_ins.sh"
        plugin_phase unstack
        snapshot unstack
        ;;
    clean)
        source_libs apache ldap database rpc_backend tls libraries lvm \
            horizon keystone glance nova placement cinder swift neutron
        for extra in "$TOP_DIR"/extras.d/*.sh; do
            source "$extra" source
        done
        load_plugin_settings
        source "$HERE/stand_ins.sh"
        plugin_phase clean
        snapshot clean
        ;;
    *)
        echo "usage: $0 stack|unstack|clean" >&2
        exit 2
        ;;
esac
