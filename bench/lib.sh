# Functions shared by bench/hostile.sh, bench/service.sh, bench/progress.sh and bench/multiorg.sh,
# sourced once at their start (svc_pid holds each one's service's pid). Each of those scripts is
# one function, main, read whole before it runs: editing the files during a run cannot change
# what the run does.

# shellcheck source=../scripts/lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/service.sh"

# begin SIZE NAME=VALUE...: the start of a script's main: strict mode, the repository root as
# working directory, LC_ALL=C; SIZE (users:groups:per-group) in SIZE, users, groups and per;
# defaults NAME=VALUE...; OUT (a new temp dir unless set) made.
begin() {
	set -euo pipefail
	cd "$(dirname "$0")/.."
	export LC_ALL=C
	SIZE=$1
	shift
	defaults "$@"
	OUT=${OUT:-$(mktemp -d)}
	IFS=: read -r users groups per <<<"$SIZE"
	mkdir -p "$OUT"
}

# die MESSAGE: the script's name and MESSAGE on stderr, and exit 1.
die() {
	echo "$(basename "$0"): $*" >&2
	exit 1
}

# needs CMD...: exits naming the Debian package to install unless each CMD is on PATH.
needs() {
	local cmd
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || die "needs $cmd (apt-get install $cmd)"
	done
}

# build builds the service and the fake Okta into OUT, and sets commit to HEAD's short hash.
build() {
	go build -o "$OUT/fake-okta" ./cmd/fake-okta
	go build -o "$OUT/okta-entity-provider" ./cmd/okta-entity-provider
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
}

# JSON fields, read with bash's own regular expressions (no jq needed):
# jnum and jstr print the first value of a key (nothing when absent).
jnum() {
	local re="\"$2\":(-?[0-9][0-9.eE+-]*)"
	if [[ $1 =~ $re ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
}
jstr() {
	local re='"'"$2"'":"(([\\].|[^"\\])*)"'
	if [[ $1 =~ $re ]]; then
		local v=${BASH_REMATCH[1]}
		printf '%s' "${v//\\\"/\"}"
	fi
}

# start_fake starts $OUT/fake-okta with the org SIZE gives (users, groups, per), LATENCY,
# RATE_WINDOW and rate limits of Okta's size, logging to $OUT/fake.log, and waits until it
# listens: fake_pid is its pid, fake its URL.
start_fake() {
	"$OUT/fake-okta" -addr 127.0.0.1:0 -users "$users" -groups "$groups" -memberships "$per" -seed 1 \
		-latency "$LATENCY" -concurrency 75 -rate-window "$RATE_WINDOW" \
		-rate-users 600 -rate-groups 500 -rate-logs 120 -rate-other 1200 >"$OUT/fake.log" 2>&1 &
	fake_pid=$!
	fake=$(wait_log "$OUT/fake.log" 'listening on http://[^ ]*')
	fake=${fake#listening on }
}

# alive reports whether the service runs (a zombie has no VmRSS).
alive() { grep -q '^VmRSS:' "/proc/$svc_pid/status" 2>/dev/null; }

# wait_log prints the first match of the extended regular expression $2 in
# the log $1, waiting up to LOG_WAIT seconds (120 unless set) for it.
wait_log() {
	local deadline=$((SECONDS + ${LOG_WAIT:-120})) line
	while :; do
		line=$(grep -Eo -m1 "$2" "$1" 2>/dev/null || true) # the log may not exist yet
		if [ -n "$line" ]; then
			printf '%s' "$line"
			return
		fi
		[ $SECONDS -lt $deadline ] || die "timed out waiting for /$2/ in $1"
		sleep 0.1
	done
}

# stop_all stops each process given by pid, if it runs, and waits for it.
stop_all() {
	local pid
	for pid in "$@"; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
}
