#!/bin/bash
#
# fake_devstack.sh - the few DevStack functions and variables the plugin
# uses, for driving it without DevStack
#
# Written for these tests (not copied from DevStack) with the semantics of
# DevStack's inc/ini-config, functions-common, inc/python and inc/async as of
# 2026: the ini helpers edit in place with the same quirks (iniset inserts a
# new option right after its section header, creates a missing section at
# the end after an empty line, and replaces every matching line of the
# section; iniget collapses whitespace; iniset_multiline rewrites all the
# lines of a multi-valued option).
#
# Probes for the tests, which DevStack does not have:
# - setup_develop, pip_uninstall and define_plugin append to $FAKE_CALLS;
# - a write to $NOVA_CONF by the main shell while an async job started with
#   async_runfunc has not been waited for is recorded in $FAKE_RACES: that
#   is the nova.conf race with configure_neutron_nova.
#
# Expects FAKE_WORK, a directory standing for the host's filesystem.

# Variables are read by the plugin that sources this file.
# shellcheck disable=SC2034
: "${FAKE_WORK:?FAKE_WORK must name the work directory of the test}"

FAKE_CALLS=$FAKE_WORK/calls.log
FAKE_RACES=$FAKE_WORK/races.log
FAKE_MAIN_PID=$BASHPID

# stackrc / lib/* variables the plugin reads
DEST=$FAKE_WORK/opt/stack
DATA_DIR=$DEST/data
NOVA_CONF_DIR=$FAKE_WORK/etc/nova
NOVA_CONF=$NOVA_CONF_DIR/nova.conf
NOVA_API_PASTE_INI=$NOVA_CONF_DIR/api-paste.ini
SWIFT_CONF_DIR=$FAKE_WORK/etc/swift
TEMPEST_CONFIG=$DEST/tempest/etc/tempest.conf
HOST_IP=${HOST_IP-192.0.2.10}
SERVICE_HOST=${SERVICE_HOST-$HOST_IP}
HOST_IPV6=${HOST_IPV6-2001:db8::10}
# lib/nova sets it without a ${:-} default
NOVA_FILTERS="ComputeFilter,ComputeCapabilitiesFilter,ImagePropertiesFilter,ServerGroupAntiAffinityFilter,ServerGroupAffinityFilter,SameHostFilter,DifferentHostFilter"
ENABLED_SERVICES=${ENABLED_SERVICES-key,n-api,n-cpu,n-cond,n-sch,placement-api,g-api,q-svc,s-proxy,s-object,s-container,s-account,tls-proxy,tempest}


# Messages
# --------

function echo_summary {
    echo "$@"
}

function die {
    local line=$1
    shift
    echo "[ERROR] ${BASH_SOURCE[1]}:$line $*" >&2
    exit 1
}

function define_plugin {
    echo "define_plugin $*" >> "$FAKE_CALLS"
}


# Services
# --------

# is_service_enabled service [service ...] - any of them enabled, with
# DevStack's shorthands: nova means n-*, swift means s-*, and s-* is enabled
# by swift.
function is_service_enabled {
    local service
    for service in "$@"; do
        if [[ ,$ENABLED_SERVICES, == *,$service,* ]]; then
            return 0
        fi
        if [[ $service == nova && ,$ENABLED_SERVICES == *,n-* ]]; then
            return 0
        fi
        if [[ $service == swift && ,$ENABLED_SERVICES == *,s-* ]]; then
            return 0
        fi
        if [[ $service == s-* && ,$ENABLED_SERVICES, == *,swift,* ]]; then
            return 0
        fi
    done
    return 1
}

# trueorfalse default varname - normalise a boolean setting
function trueorfalse {
    local value=${!2:-}
    case $value in
        1|[yY]es|YES|[tT]rue|TRUE|[oO]n|ON) echo True ;;
        0|[nN]o|NO|[fF]alse|FALSE|[oO]ff|OFF) echo False ;;
        *) echo "$1" ;;
    esac
}


# Python packages
# ---------------

function setup_develop {
    echo "setup_develop $*" >> "$FAKE_CALLS"
}

function pip_uninstall {
    echo "pip_uninstall $*" >> "$FAKE_CALLS"
}


# INI files
# ---------

# _fake_ini <action> <file> <section> <option> [value] - see fake_ini.awk
_FAKE_INI_AWK=$(dirname "${BASH_SOURCE[0]}")/fake_ini.awk

function _fake_ini {
    local action=$1 file=$2 section=$3 option=$4 value=${5:-}
    if [[ $action == get* ]]; then
        [[ -f $file ]] || return 0
        awk -v action="$action" -v sec="$section" -v opt="$option" \
            -f "$_FAKE_INI_AWK" "$file"
        return 0
    fi
    # Like sed -i: a new file replaces the old one, so two writers racing
    # lose one another's changes (as with DevStack), but neither fails.
    local tmp
    tmp=$(mktemp "$file.XXXXXX")
    awk -v action="$action" -v sec="$section" -v opt="$option" \
        -v val="$value" -f "$_FAKE_INI_AWK" "$file" > "$tmp"
    chmod --reference="$file" "$tmp"
    mv "$tmp" "$file"
}

# _fake_note_write <file> - the race probe
function _fake_note_write {
    if [[ $1 == "$NOVA_CONF" && $BASHPID == "$FAKE_MAIN_PID" ]] && compgen -G "$DEST/async/*.ini" > /dev/null; then
        echo "RACE: $* while $(cd "$DEST/async" && ls ./*.ini) still runs" >> "$FAKE_RACES"
    fi
}

function _fake_ensure_section {
    local file=$1 section=$2
    if ! grep -q "^\[$section\]" "$file" 2> /dev/null; then
        printf '\n[%s]\n' "$section" >> "$file"
    fi
}

function ini_has_option {
    [[ -n $(_fake_ini get "$1" "$2" "$3") ]]
}

# iniset [-sudo] file section option value
function iniset {
    [[ $1 == -sudo ]] && shift
    local file=$1 section=$2 option=$3 value=$4
    [[ -z $section || -z $option ]] && return 0
    _fake_note_write "$file" "$section" "$option"
    _fake_ensure_section "$file" "$section"
    if ini_has_option "$file" "$section" "$option"; then
        _fake_ini replace "$file" "$section" "$option" "$value"
    else
        _fake_ini insert "$file" "$section" "$option" "$value"
    fi
}

# iniget file section option - the value, whitespace collapsed (for a
# multi-valued option, DevStack's quirky "a option = b": use
# iniget_multiline)
function iniget {
    local line
    line=$(_fake_ini get "$1" "$2" "$3")
    line=${line#*=}
    # shellcheck disable=SC2086  # collapse whitespace like DevStack's echo
    echo $line
}

# iniget_multiline file section option - all values, space separated
function iniget_multiline {
    local values
    values=$(_fake_ini getmulti "$1" "$2" "$3")
    # shellcheck disable=SC2086
    echo $values
}

# iniset_multiline [-sudo] file section option value...
function iniset_multiline {
    [[ $1 == -sudo ]] && shift
    local file=$1 section=$2 option=$3 value index
    shift 3
    local -a values=("$@")
    _fake_note_write "$file" "$section" "$option"
    if grep -q "^\[$section\]" "$file" 2> /dev/null; then
        _fake_ini delete "$file" "$section" "$option"
    else
        printf '\n[%s]\n' "$section" >> "$file"
    fi
    # Each insert lands right after the header: insert the last value first.
    for ((index = ${#values[@]} - 1; index >= 0; index--)); do
        value=${values[$index]}
        _fake_ini insert "$file" "$section" "$option" "$value"
    done
}

# iniadd [-sudo] file section option value... - append values
function iniadd {
    [[ $1 == -sudo ]] && shift
    local file=$1 section=$2 option=$3
    shift 3
    local current
    current=$(iniget_multiline "$file" "$section" "$option")
    # shellcheck disable=SC2086  # values are space separated, as in DevStack
    iniset_multiline "$file" "$section" "$option" $current "$@"
}

# inidelete [-sudo] file section option
function inidelete {
    [[ $1 == -sudo ]] && shift
    [[ -z $2 || -z $3 ]] && return 0
    _fake_note_write "$1" "$2" "$3"
    _fake_ini delete "$1" "$2" "$3"
}


# Asynchronous jobs (inc/async)
# -----------------------------

# async_runfunc name [args] - run the function in the background now; like
# DevStack the job then waits, finished, until async_wait collects it.
function async_runfunc {
    local name=$1
    local dir=$DEST/async
    mkdir -p "$dir"
    touch "$dir/$name.ini"
    mkfifo "$dir/$name.fifo"
    (
        if "$@" > "$dir/$name.log" 2>&1; then rc=0; else rc=$?; fi
        cat "$dir/$name.fifo" > /dev/null
        exit $rc
    ) &
    echo $! > "$dir/$name.pid"
}

function _fake_async_wait {
    local name rc=0
    local dir=$DEST/async
    for name in "$@"; do
        if [[ -f $dir/$name.ini ]]; then
            echo WAKEUP > "$dir/$name.fifo"
            wait "$(cat "$dir/$name.pid")" || rc=$?
            rm -f "$dir/$name.ini" "$dir/$name.fifo" "$dir/$name.pid"
        else
            echo "Not waiting for async task $name that we never started or has already been waited for"
        fi
    done
    return $rc
}

function async_wait {
    _fake_async_wait "$@"
}

# _fake_async_cleanup - collect every job still pending (stack.sh kills its
# background jobs on exit); a job left blocked would keep the output open.
function _fake_async_cleanup {
    local ini
    for ini in "$DEST"/async/*.ini; do
        if [[ -f $ini ]]; then
            _fake_async_wait "$(basename "$ini" .ini)" > /dev/null || true
        fi
    done
}
