# Starting, and waiting on, the service and its fakes, for the scripts that
# run the real binaries (sourced: scripts/okta-faults.sh, bench/ha.sh; and
# defaults by bench/lib.sh). Each wait is bounded; on timeout it prints "# FAIL ..." on stderr and exits 1.

# defaults NAME=VALUE...: each NAME keeps its value when set and not empty,
# and is VALUE otherwise (NAME=${NAME:-VALUE} for each).
defaults() {
	local kv name
	for kv in "$@"; do
		name=${kv%%=*}
		[ -n "${!name:-}" ] || printf -v "$name" '%s' "${kv#*=}"
	done
}

# prepare NAME=VALUE...: the start of a script's main: strict mode, the
# repository root as working directory, Go on PATH, defaults NAME=VALUE...,
# OUT (a new temp dir unless set) made, and the service and fake-okta built
# into it.
prepare() {
	set -euo pipefail
	cd "$(dirname "$0")/.."
	export PATH="/usr/local/go/bin:$PATH"
	defaults "$@"
	OUT=${OUT:-$(mktemp -d)}
	mkdir -p "$OUT"
	go build -o "$OUT/okta-entity-provider" ./cmd/okta-entity-provider
	go build -o "$OUT/fake-okta" ./cmd/fake-okta
}

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
