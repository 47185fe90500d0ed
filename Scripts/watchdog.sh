#!/usr/bin/env bash
# Runs a test command with a time limit, so that a hung test fails the run in bounded time and
# says where it hung instead of stalling CI:
#   bash Scripts/watchdog.sh SECONDS command [args...]
# On expiry it names the command, prints the backtraces of every thread of each test process
# still running (with gdb when installed), kills the test processes (then `swift test` prints
# what it still held of their output: the last "Test Case '...' started" line names the hung
# test), then the command and every process it started (test peers in their own process groups
# included), and exits 124.
set -uo pipefail
limit=$1
shift

"$@" &
pid=$!

# Every descendant of $1, children first walked through /proc (no procps needed).
descendants() {
    local parent=$1 status child
    for status in /proc/[0-9]*/status; do
        child=${status#/proc/}
        child=${child%/status}
        if [ "$(awk '/^PPid:/ { print $2 }' "$status" 2>/dev/null)" = "$parent" ]; then
            echo "$child"
            descendants "$child"
        fi
    done
}

deadline=$((SECONDS + limit))
while kill -0 "$pid" 2>/dev/null; do
    if ((SECONDS >= deadline)); then
        echo "error: '$*' was still running after ${limit} s: a test hung." >&2
        echo "Thread backtraces follow; then the test processes are stopped, and the last \"Test Case '...' started\" line printed names the hung test." >&2
        all=$(descendants "$pid")
        for p in $all; do
            name=$(cat "/proc/$p/comm" 2>/dev/null || true)
            case $name in
            *xctest* | *Package* | plexus* | python*)
                echo "--- threads of $p ($name) ---" >&2
                if command -v gdb >/dev/null; then
                    timeout 120 gdb -p "$p" -batch -nx -iex 'set auto-load off' -ex 'thread apply all bt 30' 2>&1 | grep -v -e '^\[New LWP' -e '^During symbol reading' -e '^warning: ' | head -n 600 >&2 || true
                else
                    echo "(gdb is not installed: no backtraces)" >&2
                fi
                ;;
            esac
        done
        # The test processes first: `swift test` then reports and flushes the output it holds
        # (it relays XCTest's lines in buffered chunks), so the hung test's name is printed.
        for p in $all; do
            case $(cat "/proc/$p/comm" 2>/dev/null) in
            *xctest* | *Package* | plexus* | python*) kill -9 "$p" 2>/dev/null ;;
            esac
        done
        for _ in $(seq 1 15); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
        kill -9 $(descendants "$pid") "$pid" 2>/dev/null
        wait "$pid" 2>/dev/null
        echo "error: '$*' was stopped after ${limit} s: the last \"Test Case '...' started\" line above names the test that hung." >&2
        exit 124
    fi
    sleep 2
done
wait "$pid"
