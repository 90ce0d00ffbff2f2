#!/bin/bash
# The whole test suite, as CI runs it: style (hacking, bandit; bashate runs
# as a test), the documentation and release notes builds (warnings are
# errors), unit tests, functional tests on a real Swift cluster and in
# Nova's own fixtures, the DevStack plugin's tests and the packaging tests
# (the wheel in fresh Swift-only and Nova-only virtualenvs). Extra
# arguments go to stestr (a test filter).
set -euo pipefail
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$TOP"
bash tools/bootstrap.sh
VENV=${OPENSTACK_EXT_VENV:-$TOP/.venv}

echo "== style: flake8 with hacking, bandit"
"$VENV/bin/flake8"
"$VENV/bin/bandit" -q -r openstack_ext -x tests -n5

# Sphinx's output goes to a log, shown when the build fails.
sphinx() {
    local what=$1 source=$2 build=$3 log
    echo "== $what: sphinx-build -W $source"
    log=$(mktemp)
    if ! "$VENV/bin/sphinx-build" -W --keep-going -q -b html \
            -d "$build/doctrees" "$source" "$build/html" >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "$what: the build failed (warnings are errors)" >&2
        exit 1
    fi
    rm -f "$log"
}
sphinx docs doc/source doc/build
sphinx "release notes" releasenotes/source releasenotes/build

echo "== tests: stestr"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$VENV/bin/stestr" run --concurrency "${OPENSTACK_EXT_TEST_CONCURRENCY:-2}" \
    "$@" 2>&1 | tee "$log" || status=$?
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

count() { sed -n "s/^ - $1: \([0-9]*\).*/\1/p" "$log" | tail -n 1; }
passed=$(count Passed); failed=$(count Failed); skipped=$(count Skipped)
if [ -z "$passed" ]; then
    echo "stestr printed no totals: treating the run as failed" >&2
    exit 1
fi
if [ "$passed" -eq 0 ]; then
    echo "no test ran: treating the run as failed" >&2
    status=1
fi
echo "openstack-ext: ${passed} passed, ${failed:-0} failed, ${skipped:-0} skipped"
exit "$status"
