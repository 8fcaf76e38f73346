#!/usr/bin/env bash
# What the service does when Okta misbehaves the way real orgs do, on the
# real binary against cmd/fake-okta (an org with years of history and a
# readable System Log). For each fault it injects the fault through the
# fake's /_fake/faults, waits for the syncs it needs, prints what /status
# and /readyz said, lifts the fault, and checks that the service serves
# exactly the fake's truth again. One Markdown table row per fault; any
# failed check prints "# FAIL" on stderr and makes the script exit 1.
#
# Usage: scripts/okta-faults.sh
# Environment: USERS (2000), NGROUPS (200), OUT (a temp dir, kept, with the
# logs), CLOCK_OFFSET (passed to fake-okta's -clock-offset, default 0),
# FULL_SYNC_INTERVAL (1s: every sync is a full reconciliation, which runs an
# incremental sync and then a full listing, so each fault meets both).
# shellcheck source=lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib/service.sh"

main() {
	prepare USERS=2000 NGROUPS=200 CLOCK_OFFSET=0s
	rm -rf "$OUT/data"
	: >"$OUT/service.log"

	local fport=19481 sport=19482 failed=0
	local fake="http://127.0.0.1:$fport" svc="http://127.0.0.1:$sport"
	"$OUT/fake-okta" -addr "127.0.0.1:$fport" -users "$USERS" -groups "$NGROUPS" -clock-offset "$CLOCK_OFFSET" >"$OUT/fake.log" 2>&1 &
	fake_pid=$!
	trap 'kill ${fake_pid:-} ${svc_pid:-} 2>/dev/null || true' EXIT
	wait_http "$fake/_fake/stats"

	start_service() {
		OKTA_ORG_URL=$fake OKTA_TOKEN=demo-token DATA_DIR="$OUT/data" LISTEN_ADDR="127.0.0.1:$sport" \
			SYNC_INTERVAL=2s FULL_SYNC_INTERVAL=${FULL_SYNC_INTERVAL:-1s} OKTA_MAX_RETRIES=2 LOG_LEVEL=info "$OUT/okta-entity-provider" >>"$OUT/service.log" 2>&1 &
		svc_pid=$!
	}
	start_service
	wait_ready "$svc"
	echo "| fault | how | syncs during it | what the service did | after the fault |"
	echo "|---|---|---|---|---|"

	# fault NAME HOW JSON SYNCS
	fault() {
		local name=$1 how=$2 json=$3 syncs=$4
		local before during after
		before=$(completed "$svc")
		curl -fsS -X POST -d "$json" "$fake/_fake/faults" >/dev/null
		wait_syncs "$svc" $((before + syncs))
		during=$(summary "$svc")
		curl -fsS -X POST -d '{}' "$fake/_fake/faults" >/dev/null
		local n
		n=$(completed "$svc")
		wait_syncs "$svc" $((n + 2))
		after=$(summary "$svc")
		if ! exact "$svc" "$fake"; then
			echo "# FAIL $name: the served entities differ from the fake's truth after the fault" >&2
			failed=1
			after="$after, NOT exact"
		else
			after="$after, exact"
		fi
		echo "| $name | $how | $syncs | $during | $after |"
	}

	fault "System Log 400" 'logError {status:400, E0000053}' '{"logError":{"status":400,"code":"E0000053"}}' 3
	fault "System Log 5xx storm" 'logError {status:503}' '{"logError":{"status":503}}' 3
	fault "group deleted before its member listing" 'vanishGroups 1' '{"vanishGroups":1}' 2
	fault "next link on an exactly full last page" 'fullLastPageNext' '{"fullLastPageNext":true}' 2
	fault "X-Rate-Limit-Reset in the past" 'pastReset' '{"pastReset":true}' 2
	fault "concurrency 429 without rate headers" 'concurrencyBurst 6' '{"concurrencyBurst":6}' 2
	fault "200 with a truncated body" 'badBodies 2 (truncated)' '{"badBodies":2,"badBodyKind":"truncated"}' 2
	fault "200 with an empty body" 'badBodies 2 (empty)' '{"badBodies":2,"badBodyKind":"empty"}' 2
	fault "5xx storm past the retries" 'down (every call 503)' '{"down":true}' 2

	# The first sync cannot succeed: /readyz explains it.
	kill "$svc_pid"
	wait "$svc_pid" || true
	rm -rf "$OUT/data"
	curl -fsS -X POST -d '{"down":true}' "$fake/_fake/faults" >/dev/null
	start_service
	sleep 8
	local code body
	code=$(curl -s -o "$OUT/readyz.json" -w '%{http_code}' "$svc/readyz")
	body=$(cat "$OUT/readyz.json")
	echo
	echo "first sync impossible: /readyz $code $body"
	if [ "$code" != 503 ] || ! grep -q "OKTA_ORG_URL" "$OUT/readyz.json"; then
		echo "# FAIL /readyz before the first snapshot: want 503 naming the cause and the fix" >&2
		failed=1
	fi
	local fails
	fails=$(curl -fsS "$svc/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["syncs"]["failed"])')
	echo "failed syncs of this process: $fails; 'sync failed' lines at error level in the whole run (two processes, two causes): $(grep -c '"level":"error".*sync failed' "$OUT/service.log" || true)"
	echo "System Log warnings logged: $(grep -c 'cannot read the System Log' "$OUT/service.log" || true)"
	return $failed
}

# summary prints the last sync's outcome, error and the deletion source.
summary() {
	curl -fsS "$1/status" | python3 -c '
import json, sys
d = json.load(sys.stdin)
ls, ch = d["lastSync"], d.get("changes") or {}
s = "%s %s, %d calls, %d users served, deletions from %s" % (ls["mode"], ls["outcome"], ls["oktaCalls"], (d.get("snapshot") or {}).get("users", 0), ch.get("deletionsFrom"))
if ls.get("error"): s += "; error: " + ls["error"][:160]
if ch.get("systemLogError"): s += "; systemLogError: " + ch["systemLogError"][:100]
print(s.replace("|", "/"))'
}

# exact reports whether the service at $1 serves byte for byte what a fresh
# instance's first (full) sync serves against the same fake: the same ETag.
exact() {
	local port=19483 want got pid
	rm -rf "$OUT/fresh"
	OKTA_ORG_URL=$2 OKTA_TOKEN=demo-token DATA_DIR="$OUT/fresh" LISTEN_ADDR="127.0.0.1:$port" \
		SYNC_INTERVAL=1h "$OUT/okta-entity-provider" >>"$OUT/fresh.log" 2>&1 &
	pid=$!
	wait_ready "http://127.0.0.1:$port"
	want=$(etag "http://127.0.0.1:$port")
	kill "$pid"
	wait "$pid" || true
	got=$(etag "$1")
	[ "$got" = "$want" ]
}

etag() {
	curl -fsS "$1/status" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot"]["etag"])'
}

main "$@"
