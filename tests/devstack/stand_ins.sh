#!/bin/bash
#
# stand_ins.sh - what run_devstack.sh replaces of DevStack: only the
# functions that touch the machine or the network
#
# Sourced after DevStack's functions, lib/* and extras.d, so these
# definitions win. Each records its call in $CALLS for the tests.

CALLS=$WORK/calls.log
RACES=$WORK/races.log
MAIN_PID=$BASHPID

function _record {
    echo "$*" >> "$CALLS"
}

# sudo runs file commands whose every absolute path is inside the work
# directory (DevStack's "sudo install -d", "sudo tee" of its own files);
# anything else (sysctl, modprobe, systemctl, files under /etc...) is
# recorded and not run ("sudo tee" then reads what it would have written).
_SUDO_RUNS=" install mkdir chown chmod cp mv rm ln tee sed touch cat "

function sudo {
    local arg inside=""
    while [[ $1 == -* || $1 == *=* ]]; do
        shift
    done
    if [[ $_SUDO_RUNS == *" $1 "* ]]; then
        for arg in "${@:2}"; do
            arg=${arg#*=}
            if [[ $arg == "$WORK"/* ]]; then
                inside=yes
            elif [[ $arg == /* ]]; then
                inside=""
                break
            fi
        done
    fi
    if [[ -z $inside ]]; then
        _record "skipped: sudo $*"
        if [[ $1 == tee ]]; then
            cat > /dev/null
        fi
        return 0
    fi
    "$@"
}

function install_package {
    _record "install_package $*"
}

function git_clone {
    _record "git_clone $*"
}


function setup_develop {
    _record "setup_develop $*"
}

function pip_install {
    _record "pip_install $*"
}

function pip_install_gr {
    _record "pip_install_gr $*"
}

function pip_uninstall {
    _record "pip_uninstall $*"
}

function install_tempest {
    # git clone and pip install of tempest
    _record "install_tempest"
}

function install_tempest_plugins {
    _record "install_tempest_plugins"
}

function start_swift {
    _record "start_swift"
}

# configure_tempest asks the running cloud for images, flavors and networks
# and builds tempest's venv from git trees: it cannot run here. What the
# plugin relies on is the line in which it copies NOVA_FILTERS into
# tempest.conf: run that line, taken from DevStack's own configure_tempest.
_TEMPEST_FILTERS_LINE=$(declare -f configure_tempest | grep -m1 'compute-feature-enabled scheduler_enabled_filters' || true)

function configure_tempest {
    _record "configure_tempest"
    if [[ -z $_TEMPEST_FILTERS_LINE ]]; then
        die $LINENO "lib/tempest no longer copies NOVA_FILTERS to scheduler_enabled_filters: update tests/devstack/stand_ins.sh"
    fi
    mkdir -p "$TEMPEST_CONFIG_DIR"
    rm -f "$TEMPEST_CONFIG"
    if [[ -n "$NOVA_FILTERS" ]]; then
        eval "$_TEMPEST_FILTERS_LINE"
    fi
}
