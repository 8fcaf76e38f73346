#!/usr/bin/env bash
# Sync benchmarks: full sync, no-change incremental sync, small-change
# incremental sync, serving /entities, and the service's steady state in one
# process (snapshot served, small change synced, next snapshot built beside
# it, state saved), at two org sizes, against the fake Okta running in its own
# process (so the peak RSS measured is the sync's). Each step prints one JSON
# line; bench/syncbench documents the fields.
#
# The fake answers after LATENCY with Okta's per-minute bucket sizes (users
# 600, groups 500, logs 120, other 1200) and a 75-request concurrency limit.
# Its System Log shows events at once (-log-delay 0): the steps sync right
# after each change, and a deletion still invisible would be found only by
# the step after (the service's tests cover that delay).
# Okta's windows are 60 s; RATE_WINDOW shortens them with the SAME per-window
# counts (default 6 s: every rate is 10x Okta's, so a 100,000-user org's full
# sync takes minutes, not an hour). Call counts and 429s do not depend on the
# window; wall times of the rate-bound steps scale with it.
#
# Usage: bench/run.sh [users:groups:memberships-per-user ...]
#   default: 20000:2000:3 100000:10000:10 (the second is 1,000,000 memberships)
# Environment: RATE_WINDOW (6s), LATENCY (50ms), PORT (18481), OUT (a temp dir).
#
# The whole script is one function, read before it runs: editing the file
# during a run (which takes a while) cannot change what the run does.
main() {
	set -euo pipefail
	cd "$(dirname "$0")/.."

	RATE_WINDOW=${RATE_WINDOW:-6s}
	LATENCY=${LATENCY:-50ms}
	PORT=${PORT:-18481}
	OUT=${OUT:-$(mktemp -d)}
	SIZES=("$@")
	if [ ${#SIZES[@]} -eq 0 ]; then
		SIZES=(20000:2000:3 100000:10000:10)
	fi

	go build -o "$OUT/fake-okta" ./cmd/fake-okta
	go build -o "$OUT/syncbench" ./bench/syncbench

	fake_pid=
	cleanup() {
		if [ -n "$fake_pid" ]; then
			kill "$fake_pid" 2>/dev/null || true
			wait "$fake_pid" 2>/dev/null || true
		fi
	}
	trap cleanup EXIT

	echo "# window $RATE_WINDOW, latency $LATENCY, concurrency limit 75, rate share 0.5"
	for size in "${SIZES[@]}"; do
		IFS=: read -r users groups per <<<"$size"
		"$OUT/fake-okta" -addr "127.0.0.1:$PORT" -users "$users" -groups "$groups" -memberships "$per" -seed 1 \
			-latency "$LATENCY" -concurrency 75 -rate-window "$RATE_WINDOW" -log-delay 0 \
			-rate-users 600 -rate-groups 500 -rate-logs 120 -rate-other 1200 >"$OUT/fake-$users.log" 2>&1 &
		fake_pid=$!
		for _ in $(seq 1 600); do
			if curl -fsS "http://127.0.0.1:$PORT/_fake/stats" >/dev/null 2>&1; then
				break
			fi
			sleep 0.5
		done
		state="$OUT/state-$users"
		rm -f "$state"
		echo "# $users users, $groups groups, $per memberships per user"
		for mode in full noop small noop serve cycle; do
			"$OUT/syncbench" -okta-url "http://127.0.0.1:$PORT" -state "$state" -mode "$mode" 2>>"$OUT/syncbench-$users.log"
		done
		cleanup
		fake_pid=
	done
}
main "$@"
