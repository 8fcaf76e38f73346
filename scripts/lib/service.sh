# Waiting on the service and its fakes, for the scripts that run the real
# binaries (sourced: scripts/okta-faults.sh, bench/ha.sh). Each wait is
# bounded; on timeout it prints "# FAIL ..." on stderr and exits 1.

# wait_http URL: until URL answers 2xx, 10 s at most.
wait_http() {
	for _ in $(seq 1 100); do
		curl -fsS -o /dev/null "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	echo "# FAIL $1 never answered" >&2
	exit 1
}

# wait_ready BASE [SECONDS]: until BASE/readyz is 200, 60 s by default.
wait_ready() {
	for _ in $(seq 1 $((${2:-60} * 5))); do
		[ "$(curl -s -o /dev/null -w '%{http_code}' "$1/readyz")" = 200 ] && return 0
		sleep 0.2
	done
	echo "# FAIL the service at $1 never became ready" >&2
	exit 1
}

# completed BASE: the syncs /status counts, completed and failed.
completed() {
	curl -fsS "$1/status" | python3 -c 'import json,sys; d=json.load(sys.stdin)["syncs"]; print(d["completed"]+d["failed"])'
}

# wait_syncs BASE N [SECONDS]: until /status counts N syncs, 120 s by
# default.
wait_syncs() {
	local secs=${3:-120}
	for _ in $(seq 1 $((secs * 5))); do
		[ "$(completed "$1")" -ge "$2" ] && return 0
		sleep 0.2
	done
	echo "# FAIL fewer than $2 syncs in $secs s" >&2
	exit 1
}
