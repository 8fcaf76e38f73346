#!/usr/bin/env bash
# End-to-end test against a real Backstage catalog.
#
# Builds okta-entity-provider and the fake Okta, starts a fake org with the
# nasty cases, the service against it and a catalog-only Backstage backend
# (e2e/backstage) that reads the service's /entities URL, then asserts
# through the catalog's REST API: ingestion against the fake org's truth,
# following changes, Okta failing, 304s, sharded mode, the entities token,
# and the change-to-catalog latency with Okta event hooks (e2e/latency.js).
#
# Everything listens on 127.0.0.1. Run from anywhere:
#
#   bash scripts/e2e-backstage.sh
#
# E2E_KEEP=1 keeps the work directory (logs) afterwards. Outside CI, a
# node_modules left by an earlier successful npm ci of the same lock file and
# Node.js is reused; E2E_NPM_CI=1 forces a fresh npm ci.
#
# Every assertion prints a PASS: or FAIL: line saying what was checked; the
# last line is "N passed, M failed" and the exit code is non-zero on any
# failure, an aborted run included.
set -Eeuo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BS="$ROOT/e2e/backstage"
CHECK="$ROOT/e2e/check.js"
WORK=$(mktemp -d "${TMPDIR:-/tmp}/e2e-backstage.XXXXXX")
STARTED_AT=$(date +%s)

PASSED=0
FAILED=0
SUMMARY_PRINTED=""
ERR_AT=""
STOP_REASON="" # set by stop_run
FAKE_PID=""
FAKE2_PID=""
SERVICE_PID=""
CATALOG_PID=""
CHECK_PID=""

log() { printf '[e2e %3ds] %s\n' "$(($(date +%s) - STARTED_AT))" "$*"; }
step() { printf '\n=== %s\n' "$*"; }

stop_pid() { # stop_pid PID NAME: TERM, then KILL after 10s
	local pid=$1 name=$2
	[ -n "$pid" ] || return 0
	kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null || true; return 0; }
		sleep 0.1
	done
	log "$name (pid $pid) did not stop in 10s; killing it"
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

cleanup() {
	local rc=$?
	set +e
	trap - ERR
	if [ -z "$SUMMARY_PRINTED" ]; then
		# Aborted before the summary: say where, and count it as a failure.
		FAILED=$((FAILED + 1))
		if [ -n "$STOP_REASON" ]; then
			echo "FAIL: $STOP_REASON; the later assertions did not run"
		else
			echo "FAIL: the script stopped early (exit status $rc${ERR_AT:+ at $ERR_AT}); the later assertions did not run"
		fi
		[ "$rc" -ne 0 ] || rc=1
	fi
	stop_pid "$CHECK_PID" check.js
	stop_pid "$CATALOG_PID" catalog
	stop_pid "$SERVICE_PID" okta-entity-provider
	stop_pid "$FAKE_PID" fake-okta
	stop_pid "$FAKE2_PID" "second fake-okta"
	if [ "$rc" -ne 0 ] || [ "$FAILED" -ne 0 ]; then
		# The warnings and errors of each process, then its last lines.
		for f in service.log backstage.log fake.log fake2.log; do
			[ -f "$WORK/$f" ] || continue
			echo "--- $f: last warnings and errors ---"
			sed 's/\x1b\[[0-9;]*m//g' "$WORK/$f" | grep -aiE '"level":"(warn|error|fatal)"|\b(warn|error)\b' | grep -v 'by-query' | tail -n 12 | cut -c1-400
			echo "--- $f: last lines ---"
			sed 's/\x1b\[[0-9;]*m//g' "$WORK/$f" | grep -v 'by-query' | tail -n 6 | cut -c1-400
		done
	fi
	if [ "${E2E_KEEP:-}" = 1 ]; then
		echo "work directory kept: $WORK"
	else
		rm -rf "$WORK"
	fi
	if [ -z "$SUMMARY_PRINTED" ]; then
		echo "$PASSED passed, $FAILED failed"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'ERR_AT="line $LINENO: $BASH_COMMAND${FUNCNAME:+ (in ${FUNCNAME[*]}, called from lines ${BASH_LINENO[*]})}"' ERR
trap 'exit 130' INT
trap 'exit 143' TERM

pass() { PASSED=$((PASSED + 1)); echo "PASS: $*"; }
# stop_run REASON: ends the run here as a failure (the later phases need
# what failed).
stop_run() { STOP_REASON=$*; exit 1; }
fail() { FAILED=$((FAILED + 1)); echo "FAIL: $*"; }

# Every request the script makes is bounded in time.
curl() { command curl --max-time 30 "$@"; }

# counted runs a Node.js script of e2e/ (check.js, latency.js) and counts
# its PASS/FAIL lines. It runs in the background so that an interrupt is
# handled at once.
counted() {
	local out
	node "$@" >"$WORK/check.out" </dev/null &
	CHECK_PID=$!
	wait "$CHECK_PID" || true
	CHECK_PID=""
	out=$(cat "$WORK/check.out")
	printf '%s\n' "$out"
	PASSED=$((PASSED + $(grep -c '^PASS:' <<<"$out" || true)))
	FAILED=$((FAILED + $(grep -c '^FAIL:' <<<"$out" || true)))
}
check() { counted "$CHECK" "$@"; }
latency() { counted "$ROOT/e2e/latency.js" "$@"; }

# wait_until SECONDS WHAT COMMAND...: polls COMMAND every 0.5s. With
# WAIT_PID set, gives up as soon as that process has exited.
wait_until() {
	local secs=$1 what=$2
	shift 2
	local deadline=$(($(date +%s) + secs))
	until "$@" >/dev/null 2>&1; do
		if [ -n "${WAIT_PID:-}" ] && ! kill -0 "$WAIT_PID" 2>/dev/null; then
			log "$what: the process (pid $WAIT_PID) exited; its log is below"
			return 1
		fi
		if [ "$(date +%s)" -ge "$deadline" ]; then
			log "timeout: $what not ready after ${secs}s"
			return 1
		fi
		sleep 0.5
	done
}

# free_port: a free port below the ephemeral range (32768 and up on Linux),
# so that no outgoing connection of another process takes it before the
# server binds it. Up to 100 random tries.
free_port() {
	node -e '
const net = require("net");
let tries = 0;
(function next() {
	if (++tries > 100) { console.error("no free port"); process.exit(1); }
	const port = 20000 + Math.floor(Math.random() * 12000);
	const s = net.createServer();
	s.once("error", next);
	s.listen(port, "127.0.0.1", () => s.close(() => console.log(port)));
})();'
}

# json EXPR: evaluates a JavaScript expression over the JSON on stdin (as d).
json() { node -e 'let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const d=JSON.parse(s);const v=('"$1"');console.log(typeof v==="string"?v:JSON.stringify(v))})'; }

# ---------------------------------------------------------------------------
step "prerequisites"

[ -d /usr/local/go/bin ] && PATH="$PATH:/usr/local/go/bin"
command -v go >/dev/null || { echo "FAIL: go is not installed"; exit 1; }
need_apt=()
command -v curl >/dev/null || need_apt+=(curl)
command -v make >/dev/null || need_apt+=(make)
command -v g++ >/dev/null || need_apt+=(g++)
command -v python3 >/dev/null || need_apt+=(python3)
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
	need_apt+=(nodejs npm)
fi
if [ "${#need_apt[@]}" -gt 0 ]; then
	log "installing with apt-get: ${need_apt[*]}"
	timeout 300 apt-get update -qq
	DEBIAN_FRONTEND=noninteractive timeout 600 apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 20 ]; then
	echo "FAIL: Node.js 20 or later is needed, found $(node --version)"
	exit 1
fi
# better-sqlite3 compiles from source (there is no prebuilt download) against
# the headers of the Node.js that runs it: .npmrc sets nodedir=/usr, where the
# Node.js package installs them. Debian's libnode-dev would not do: it holds
# the headers of Debian's own, older Node.js, and a module built against them
# does not load.
header_abi=$(sed -n 's/^#define NODE_MODULE_VERSION \([0-9][0-9]*\)$/\1/p' /usr/include/node/node_version.h 2>/dev/null | head -n 1 || true)
node_abi=$(node -p 'process.versions.modules')
if [ "$header_abi" != "$node_abi" ]; then
	echo "FAIL: better-sqlite3 needs the headers of this Node.js ($(node --version), module ABI $node_abi) in" \
		"/usr/include/node; found headers with ABI ${header_abi:-(none)}. Install the Node.js package that ships them."
	exit 1
fi
log "node $(node --version) (headers ABI $header_abi), npm $(npm --version), $(go env GOVERSION)"

step "npm ci (e2e/backstage)"
t0=$(date +%s)
# The build of better-sqlite3 (SQLite's amalgamation) dominates; -O1 (the
# last -O wins over better-sqlite3's -O3) roughly halves it, plenty for a
# catalog of a few hundred entities.
npm_key=$(cat "$BS/package.json" "$BS/package-lock.json" "$BS/.npmrc" | sha256sum | cut -c1-16)-$(node --version)-O1
stamp="$BS/node_modules/.e2e-npm-ci"
if [ -z "${CI:-}" ] && [ "${E2E_NPM_CI:-}" != 1 ] && [ "$(cat "$stamp" 2>/dev/null)" = "$npm_key" ]; then
	log "node_modules is from an earlier npm ci of the same lock file; reusing it (E2E_NPM_CI=1 forces npm ci)"
else
	for attempt in 1 2; do
		# build_from_source: straight to node-gyp, no prebuilt download try.
		if (cd "$BS" && npm_config_build_from_source=true JOBS=max CFLAGS=-O1 CXXFLAGS=-O1 \
			timeout 600 npm ci --no-audit --no-fund --loglevel=error) >"$WORK/npm-ci.log" 2>&1 </dev/null; then
			echo "$npm_key" >"$stamp"
			break
		fi
		tail -n 40 "$WORK/npm-ci.log"
		if [ "$attempt" = 2 ]; then
			stop_run "npm ci in e2e/backstage failed twice (log above)"
		fi
		log "npm ci failed; trying once more"
	done
	log "npm ci took $(($(date +%s) - t0))s"
fi
check deps --dir "$BS"
[ "$FAILED" -eq 0 ] || stop_run "the Backstage backend in e2e/backstage is not installed as required"

step "build"
t0=$(date +%s)
mkdir -p "$WORK/bin"
(cd "$ROOT" && timeout 600 go build -o "$WORK/bin/okta-entity-provider" ./cmd/okta-entity-provider &&
	timeout 600 go build -o "$WORK/bin/fake-okta" ./cmd/fake-okta) </dev/null
log "go build took $(($(date +%s) - t0))s"

# ---------------------------------------------------------------------------
FAKE_PORT=$(free_port)
SERVICE_PORT=$FAKE_PORT
CATALOG_PORT=$FAKE_PORT
for _ in $(seq 10); do [ "$SERVICE_PORT" != "$FAKE_PORT" ] && break; SERVICE_PORT=$(free_port); done
for _ in $(seq 10); do [ "$CATALOG_PORT" != "$FAKE_PORT" ] && [ "$CATALOG_PORT" != "$SERVICE_PORT" ] && break; CATALOG_PORT=$(free_port); done
FAKE_URL="http://127.0.0.1:$FAKE_PORT"
SERVICE_URL="http://127.0.0.1:$SERVICE_PORT"
CATALOG_URL="http://127.0.0.1:$CATALOG_PORT"
CATALOG_TOKEN="e2e-$(node -p 'require("crypto").randomBytes(16).toString("hex")')"
ERRORS_FILE="$WORK/processing-errors.jsonl"

# The selection under test: a filter Okta evaluates (status) and the
# service's defaults on top (DEPROVISIONED users left out).
USER_FILTER_STATUSES="ACTIVE LOCKED_OUT SUSPENDED DEPROVISIONED"
OKTA_USER_FILTER=$(printf 'status eq "%s" or ' $USER_FILTER_STATUSES)
OKTA_USER_FILTER=${OKTA_USER_FILTER% or }
OKTA_GROUP_FILTER='type eq "OKTA_GROUP" or type eq "APP_GROUP"'

export CATALOG_URL CATALOG_TOKEN FAKE_URL ERRORS_FILE
export EXPECT_USER_STATUSES="ACTIVE,LOCKED_OUT,SUSPENDED"
export EXPECT_GROUP_TYPES="OKTA_GROUP,APP_GROUP"

start_fake() {
	"$WORK/bin/fake-okta" -addr "127.0.0.1:$FAKE_PORT" -users 300 -groups 40 -seed 7 </dev/null >"$WORK/fake.log" 2>&1 &
	FAKE_PID=$!
	WAIT_PID=$FAKE_PID wait_until 20 "fake Okta on $FAKE_URL" curl -fsS "$FAKE_URL/_fake/stats"
}

# start_service [VAR=value...]: starts okta-entity-provider with extra settings.
start_service() {
	env OKTA_ORG_URL="$FAKE_URL" OKTA_TOKEN=demo-token SYNC_INTERVAL=2s \
		LISTEN_ADDR="127.0.0.1:$SERVICE_PORT" LOG_FORMAT=json LOG_LEVEL=info \
		OKTA_USER_FILTER="$OKTA_USER_FILTER" OKTA_GROUP_FILTER="$OKTA_GROUP_FILTER" \
		GROUP_HIERARCHY_KEY=orgId GROUP_HIERARCHY_PARENT_KEY=parentOrgId GROUP_MEMBERS=true \
		"$@" "$WORK/bin/okta-entity-provider" </dev/null >>"$WORK/service.log" 2>&1 &
	SERVICE_PID=$!
	WAIT_PID=$SERVICE_PID wait_until 60 "okta-entity-provider /readyz on $SERVICE_URL" curl -fsS "$SERVICE_URL/readyz"
}

# start_catalog ENTITIES_URL: starts the Backstage backend with a fresh
# in-memory database. CATALOG_EXTRA_CONFIG names a config file laid over
# app-config.yaml.
start_catalog() {
	(cd "$BS" && exec env BACKSTAGE_PORT="$CATALOG_PORT" PROVIDER_HOST="127.0.0.1:$SERVICE_PORT" \
		CATALOG_TOKEN="$CATALOG_TOKEN" ENTITIES_URL="$1" PROCESSING_ERRORS_FILE="$ERRORS_FILE" \
		NO_COLOR=1 node src/index.js --config "$BS/app-config.yaml" ${CATALOG_EXTRA_CONFIG:+--config "$CATALOG_EXTRA_CONFIG"}) \
		</dev/null >>"$WORK/backstage.log" 2>&1 &
	CATALOG_PID=$!
	local t0
	t0=$(date +%s)
	WAIT_PID=$CATALOG_PID wait_until 120 "Backstage catalog on $CATALOG_URL" \
		curl -fsS -H "Authorization: Bearer $CATALOG_TOKEN" "$CATALOG_URL/api/catalog/entities?limit=1"
	log "catalog answering after $(($(date +%s) - t0))s"
}

stop_service() { stop_pid "$SERVICE_PID" okta-entity-provider; SERVICE_PID=""; }
stop_catalog() { stop_pid "$CATALOG_PID" catalog; CATALOG_PID=""; }
error_lines() { if [ -f "$ERRORS_FILE" ]; then wc -l <"$ERRORS_FILE"; else echo 0; fi; }

# ---------------------------------------------------------------------------
step "start fake Okta, okta-entity-provider and the catalog"
start_fake
truth=$(curl -fsS "$FAKE_URL/_fake/truth")
log "fake org: $(json '`${d.users} users (${d.deprovisionedUsers} deprovisioned), ${d.groups} groups, ${d.memberships} memberships`' <<<"$truth")"
log "OKTA_USER_FILTER=$OKTA_USER_FILTER"
start_service
log "service ready: $(curl -fsS "$SERVICE_URL/status" | json '`snapshot of ${d.snapshot.users} users, ${d.snapshot.groups} groups`')"
start_catalog "$SERVICE_URL/entities"

step "ingestion"
t0=$(date +%s)
failed_before=$FAILED
check ingest --wait 120 --label "initial ingestion" --nasty yes --save "$WORK/state1.json"
log "ingestion checks settled after $(($(date +%s) - t0))s"
if [ "$FAILED" -gt "$failed_before" ]; then
	got=$(curl -s -o "$WORK/entities.yaml" -w '%{http_code} %{size_download}' "$SERVICE_URL/entities" || true)
	log "diagnosis: GET /entities answers HTTP ${got% *} with ${got#* } bytes holding" \
		"$(grep -c '^kind: User' "$WORK/entities.yaml" || true) User, $(grep -c '^kind: Group' "$WORK/entities.yaml" || true) Group" \
		"and $(grep -c '^kind: Location' "$WORK/entities.yaml" || true) Location documents; service /status:" \
		"$(curl -fsS "$SERVICE_URL/status" | json '`${d.snapshot.users} users, ${d.snapshot.groups} groups, last sync ${d.lastSync && d.lastSync.outcome}`' || echo unavailable)"
	stop_run "initial ingestion into the catalog failed (see the FAIL lines above)"
fi
status=$(curl -fsS "$SERVICE_URL/status")
svc_users=$(json 'd.snapshot.users' <<<"$status")
svc_groups=$(json 'd.snapshot.groups' <<<"$status")
cat_users=$(json 'Object.keys(d.users).length' <"$WORK/state1.json")
cat_groups=$(json 'Object.keys(d.groups).length' <"$WORK/state1.json")
if [ "$svc_users" = "$cat_users" ] && [ "$svc_groups" = "$cat_groups" ]; then
	pass "service /status reports the catalog's counts: $svc_users users, $svc_groups groups"
else
	fail "service /status reports $svc_users users, $svc_groups groups; catalog holds $cat_users users, $cat_groups groups"
fi

step "unchanged refreshes get 304"
# count_entities_requests LINE: /entities requests in the service's access
# log after LINE, as "N304 N200 {by status}".
count_entities_requests() {
	tail -n +"$(($1 + 1))" "$WORK/service.log" | node -e '
let s="";process.stdin.on("data",c=>s+=c).on("end",()=>{const n={};for(const l of s.split("\n")){let e;try{e=JSON.parse(l)}catch{continue}
if(e.message!=="request"||!String(e.path).startsWith("/entities"))continue;n[e.status]=(n[e.status]||0)+1}
console.log(`${n[304]||0} ${n[200]||0} ${JSON.stringify(n)}`)})'
}
enough_304s() { local c; c=$(count_entities_requests "$mark"); [ "${c%% *}" -ge 3 ]; }
mark=$(wc -l <"$WORK/service.log")
t0=$(date +%s)
wait_until 40 "three re-reads of /entities answered 304" enough_304s || true
secs=$(($(date +%s) - t0))
read -r n304 n200 byStatus <<<"$(count_entities_requests "$mark")"
if [ "$n304" -ge 3 ] && [ "$n200" -eq 0 ]; then
	pass "catalog re-reads of an unchanged /entities (service syncing every 2s): $n304 answered 304 Not Modified, $n200 answered 200 in ${secs}s"
elif [ "$byStatus" = "{}" ]; then
	fail "no /entities request in the service's log for ${secs}s (looked for JSON lines with message \"request\", path and status): the catalog stopped reading, or the access log changed"
else
	fail "catalog re-reads of an unchanged /entities over ${secs}s: $n304 answered 304, $n200 answered 200 (by status $byStatus); want >= 3 and 0 (an unchanged snapshot must keep its ETag)"
fi

step "following changes in Okta"
pick=$(curl -fsS "$FAKE_URL/_fake/truth?members=1" | json '(() => {
	const inGroups = new Set(d.groupList.filter(g => g.type !== "BUILT_IN").flatMap(g => g.members));
	const users = d.userList.filter(u => u.status === "ACTIVE" && inGroups.has(u.id) && /^[a-z]+\.[a-z]+@example\.com$/.test(u.email));
	const group = d.groupList.find(g => g.type === "OKTA_GROUP" && g.usersCount > 0 && /^[A-Za-z ]+$/.test(g.name) && g.parentOrgId);
	return [users[3].id, users[7].id, group.id, group.name].join(" ");
})()')
read -r deact_id delete_id group_id group_name <<<"$pick"
old_ref=$(json "d.groups['$group_id']" <"$WORK/state1.json")
new_name="Renamed $group_name Guild"
log "deactivating user $deact_id, deleting user $delete_id, renaming group $group_id ($old_ref) to \"$new_name\""
curl -fsS -X POST "$FAKE_URL/_fake/users/$deact_id/deactivate" >/dev/null
curl -fsS -X DELETE "$FAKE_URL/_fake/users/$delete_id" >/dev/null
curl -fsS -X POST -H 'Content-Type: application/json' -d "{\"name\":\"$new_name\"}" "$FAKE_URL/_fake/groups/$group_id/rename" >/dev/null
t0=$(date +%s)
check absent --user "$deact_id" --why "user deactivated in Okta" --wait 90 --label "deactivation"
check absent --user "$delete_id" --why "user deleted in Okta" --wait 60 --label "deletion"
check renamed --group "$group_id" --name "$new_name" --old-ref "$old_ref" --wait 60 --label "rename"
check ingest --wait 60 --label "after the changes" --save "$WORK/state2.json"
log "changes reflected in the catalog after $(($(date +%s) - t0))s"

step "Okta down: the catalog keeps every entity"
failed_syncs() { curl -fsS "$SERVICE_URL/status" | json 'd.syncs.failed'; }
failed_syncs_above() { [ "$(failed_syncs)" -gt "$1" ]; }
last_sync_ok() { curl -fsS "$SERVICE_URL/status" | json 'String(d.lastSync && d.lastSync.outcome)' | grep -qx ok; }
set_faults() { curl -fsS -X POST -H 'Content-Type: application/json' -d "$1" "$FAKE_URL/_fake/faults" >/dev/null; }
# expect_failed_sync SECONDS FAILED_BEFORE PASS_TEXT FAIL_TEXT: a sync fails
# within SECONDS; the pass line adds the last sync's error.
expect_failed_sync() {
	if wait_until "$1" "a failed sync" failed_syncs_above "$2"; then
		pass "$3 ($(curl -fsS "$SERVICE_URL/status" | json 'd.lastSync.error||d.lastSync.outcome' | cut -c1-120))"
	else
		fail "$4"
	fi
}
# expect_sync_ok SECONDS PASS_TEXT FAIL_TEXT: a sync succeeds within SECONDS.
expect_sync_ok() {
	if wait_until "$1" "a successful sync" last_sync_ok; then
		pass "$2"
	else
		fail "$3"
	fi
}
failed_before=$(failed_syncs)
set_faults '{"down":true}'
expect_failed_sync 30 "$failed_before" "service noticed Okta down: failed syncs went above $failed_before" \
	"service reported no failed sync within 30s of Okta going down"
check keep --from "$WORK/state2.json" --for 40 --label "Okta down for 40s (>10 processing cycles, >1 orphan cleanup)"
set_faults '{"down":false}'
expect_sync_ok 30 "service synced again after Okta came back" \
	"service did not sync successfully within 30s after Okta came back"
check same --from "$WORK/state2.json" --wait 20 --label "after Okta came back"

step "one group's member listing failing: no partial snapshot"
# A membership change makes the next sync list that group's members, and
# that listing answers 500 while the rest of Okta works. The service must
# keep serving its last good snapshot (no group losing its members, no
# entity lost); once the listing works, the new membership arrives.
pick=$(curl -fsS "$FAKE_URL/_fake/truth?members=1" | json '(() => {
	const g = d.groupList.find(g => g.type === "OKTA_GROUP" && g.id !== "'"$group_id"'" && g.usersCount >= 3 && /^[A-Za-z ]+$/.test(g.name));
	const u = d.userList.find(u => u.status === "ACTIVE" && !g.members.includes(u.id) && /^[a-z]+\.[a-z]+@example\.com$/.test(u.email));
	return [g.id, u.id].join(" ");
})()')
read -r fail_group add_user <<<"$pick"
log "adding user $add_user to group $fail_group while GET /api/v1/groups/$fail_group/users answers 500"
failed_before=$(failed_syncs)
set_faults "{\"failPathPrefix\":\"/api/v1/groups/$fail_group/users\"}"
curl -fsS -X PUT "$FAKE_URL/_fake/groups/$fail_group/users/$add_user" >/dev/null
expect_failed_sync 40 "$failed_before" "service's sync fails while one group's member listing answers 500" \
	"service reported no failed sync within 40s while GET /api/v1/groups/$fail_group/users answered 500"
check keep --from "$WORK/state2.json" --for 16 --label "one member listing failing for 16s"
set_faults '{}'
expect_sync_ok 30 "service synced again once the member listing worked" \
	"service did not sync successfully within 30s after the member listing worked again"
check ingest --wait 60 --label "after the failing listing recovered" --save "$WORK/state3.json"
if json "d.relations.memberOf.includes('$add_user>$fail_group') && d.relations.hasMember.includes('$fail_group>$add_user')" <"$WORK/state3.json" | grep -qx true; then
	pass "the membership added while the listing failed ($add_user in $fail_group) is in the catalog both ways"
else
	fail "the membership added while the listing failed ($add_user in $fail_group) is not in the catalog as memberOf and hasMember"
fi

# ingest_same_as_unsharded LOCATION_URL LABEL SAME_LABEL: a catalog started
# on LOCATION_URL ingests every entity without errors, the same as the
# unsharded run saved in state3.json.
ingest_same_as_unsharded() {
	errors_mark=$(error_lines)
	start_catalog "$1"
	check ingest --wait 120 --label "$2" --errors-from "$errors_mark"
	check same --from "$WORK/state3.json" --label "$3"
}

# ---------------------------------------------------------------------------
step "large-org mode: ENTITY_SHARDS=4 (service and catalog restarted)"
stop_catalog
stop_service
start_service ENTITY_SHARDS=4
locations=$(curl -fsS "$SERVICE_URL/entities" | grep -c '^kind: Location' || true)
if [ "$locations" -eq 4 ]; then
	pass "sharded /entities answers $locations Location entities"
else
	fail "sharded /entities answers $locations Location entities, want 4"
fi
ingest_same_as_unsharded "$SERVICE_URL/entities" "sharded" "sharded vs unsharded"

step "entities token: location URL with ?token="
stop_catalog
stop_service
ENTITIES_TOKEN="et-$(node -p 'require("crypto").randomBytes(12).toString("hex")')"
start_service ENTITY_SHARDS=4 ENTITIES_TOKEN="$ENTITIES_TOKEN"
code=$(curl -s -o /dev/null -w '%{http_code}' "$SERVICE_URL/entities")
code_shard=$(curl -s -o /dev/null -w '%{http_code}' "$SERVICE_URL/entities/shards/0")
code_ok=$(curl -s -o /dev/null -w '%{http_code}' "$SERVICE_URL/entities?token=$ENTITIES_TOKEN")
if [ "$code" = 401 ] && [ "$code_shard" = 401 ] && [ "$code_ok" = 200 ]; then
	pass "without the token /entities answers $code and /entities/shards/0 $code_shard; with ?token= $code_ok"
else
	fail "without the token /entities answers $code and /entities/shards/0 $code_shard (want 401); with ?token= $code_ok (want 200)"
fi
ingest_same_as_unsharded "$SERVICE_URL/entities?token=$ENTITIES_TOKEN" "with ENTITIES_TOKEN (sharded)" "token mode vs unsharded"

# The same catalog given the URL without the token fails to read it.
errors_mark=$(error_lines)
loc=$(curl -fsS -X POST -H "Authorization: Bearer $CATALOG_TOKEN" -H 'Content-Type: application/json' \
	-d "{\"type\":\"url\",\"target\":\"$SERVICE_URL/entities\"}" "$CATALOG_URL/api/catalog/locations")
loc_id=$(json 'd.location.id' <<<"$loc")
new_error_with() { [ -f "$ERRORS_FILE" ] && tail -n +"$((errors_mark + 1))" "$ERRORS_FILE" | grep -q "$1"; }
wait_until 30 "a processing error for the location without the token" new_error_with 401 || true
check errors --from "$errors_mark" --label "location without the token" \
	--expect-location "url:$SERVICE_URL/entities" --expect-text "401"
curl -fsS -X DELETE -H "Authorization: Bearer $CATALOG_TOKEN" "$CATALOG_URL/api/catalog/locations/$loc_id" >/dev/null
check same --from "$WORK/state3.json" --label "catalog unchanged by the failing location"

# ---------------------------------------------------------------------------
step "event hooks: changes reach the catalog in seconds (SYNC_INTERVAL=1h, catalog processing interval 10 min)"
# Only the event hooks can make this fast: the service's schedule and the
# catalog's own re-reads are far apart. The fake delivers each change's
# System Log events after 1s, some twice, some out of order; the service
# syncs, publishes and asks the catalog to refresh its location. latency.js
# prints the figures (a benchmark: the targets are not asserted).
stop_catalog
stop_service
HOOK_SECRET="hook-$(node -p 'require("crypto").randomBytes(16).toString("hex")')"
cat >"$WORK/slow-catalog.yaml" <<'YAML'
catalog:
  processingInterval: { seconds: 600 }
YAML
hook_service() {
	start_service SYNC_INTERVAL=1h OKTA_EVENT_HOOK_SECRET="$HOOK_SECRET" BACKSTAGE_URL="$CATALOG_URL" \
		BACKSTAGE_TOKEN="$CATALOG_TOKEN" BACKSTAGE_LOCATION_TARGET="$SERVICE_URL/entities"
}
hook_service
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H "Authorization: wrong-$HOOK_SECRET" -d '{}' "$SERVICE_URL/hooks/okta")
if [ "$code" = 401 ]; then
	pass "a delivery with a wrong secret answers $code"
else
	fail "a delivery with a wrong secret answers $code, want 401"
fi
if curl -fsS -X POST -H 'Content-Type: application/json' \
	-d "{\"url\":\"$SERVICE_URL/hooks/okta\",\"authValue\":\"$HOOK_SECRET\",\"delay\":\"1s\"}" "$FAKE_URL/_fake/hooks" >"$WORK/hook.json"; then
	pass "the fake Okta verified the event hook at $SERVICE_URL/hooks/okta ($(cat "$WORK/hook.json"))"
else
	stop_run "the fake Okta could not verify the event hook at $SERVICE_URL/hooks/okta"
fi
errors_mark=$(error_lines)
CATALOG_EXTRA_CONFIG="$WORK/slow-catalog.yaml" start_catalog "$SERVICE_URL/entities"
check ingest --wait 120 --label "slow catalog, before the hooked changes" --errors-from "$errors_mark"
hook_status() { curl -fsS "$SERVICE_URL/status" | json '`verified ${d.eventHook.verified}, deliveries ${JSON.stringify(d.eventHook.deliveries)}, hook-triggered syncs ${d.syncs.hookTriggered}, catalog refreshes ${JSON.stringify(d.catalogRefresh.refreshes)}`'; }
latency --label "with System Log access" --timeout 60
log "service: $(hook_status)"
if curl -fsS "$SERVICE_URL/status" | json 'd.eventHook.verified && d.syncs.hookTriggered > 0 && (d.catalogRefresh.refreshes.ok || 0) > 0' | grep -qx true; then
	pass "/status shows the hook verified, hook-triggered syncs and successful catalog refreshes"
else
	fail "/status does not show the hook verified, hook-triggered syncs and successful catalog refreshes: $(hook_status)"
fi

# Without System Log access: deletions are found only by checking the
# deletion events' targets with Okta.
stop_service
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"logError":{"status":403,"code":"E0000006"}}' "$FAKE_URL/_fake/faults" >/dev/null
hook_service
if curl -fsS "$SERVICE_URL/status" | json 'd.changes.deletionsFrom' | grep -qx periodic-check; then
	pass "the restarted service cannot read the System Log (deletionsFrom periodic-check)"
else
	fail "the restarted service reads deletions from $(curl -fsS "$SERVICE_URL/status" | json 'd.changes.deletionsFrom'), want periodic-check"
fi
latency --label "without System Log access" --timeout 60
log "service: $(hook_status)"
curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "$FAKE_URL/_fake/faults" >/dev/null
check ingest --wait 60 --label "after the hooked changes" --errors-from "$errors_mark"
log "fake's hook deliveries: $(curl -fsS "$FAKE_URL/_fake/hooks" | json 'd.map(h => JSON.stringify(h.stats)).join(" ")')"

# ---------------------------------------------------------------------------
step "several orgs, shaped by transforms: two fake Okta orgs in one catalog, one of them down for a minute"
# A second fake org generated from the same seed as the first: its logins,
# names and group names are the first's, so that nearly every entity's name
# collides across the orgs in the one namespace. Both are shaped by
# transforms (a picture, a composed display name, a description, a label,
# app groups in a namespace of their own, users of one domain left out),
# and globex overrides the group types. The merged catalog must be exact
# against both fakes' truths with no entity rejected; while the first fake
# is down, its entities stay and the second's changes keep arriving.
stop_catalog
stop_service
set_faults '{}'
FAKE2_PORT=$(free_port)
for _ in $(seq 10); do case " $FAKE_PORT $SERVICE_PORT $CATALOG_PORT " in *" $FAKE2_PORT "*) FAKE2_PORT=$(free_port) ;; *) break ;; esac; done
FAKE2_URL="http://127.0.0.1:$FAKE2_PORT"
"$WORK/bin/fake-okta" -addr "127.0.0.1:$FAKE2_PORT" -users 200 -groups 30 -seed 7 -tokens globex-token </dev/null >"$WORK/fake2.log" 2>&1 &
FAKE2_PID=$!
WAIT_PID=$FAKE2_PID wait_until 20 "second fake Okta on $FAKE2_URL" curl -fsS "$FAKE2_URL/_fake/stats"
cat >"$WORK/orgs.yaml" <<YAML
naming:
  groupNamespaces:
    APP_GROUP: apps
transform:
  user:
    exclude: hasSuffix "@subsidiary.example.com" .profile.login
    displayName: '{{join " " .profile.firstName .profile.lastName | default .profile.login}}'
    picture: 'https://avatars.example.com/{{.profile.email | lower | urlquery}}.png'
    description: '{{join " in " .profile.title .profile.department}}'
    labels:
      example.com/department: '{{.profile.department}}'
  group:
    displayName: '{{.profile.name | trimPrefix "team-"}}'
    description: '{{.profile.description | default "Synced from Okta"}}'
orgs:
  - name: acme
    url: $FAKE_URL
    tokenEnv: ACME_OKTA_TOKEN
    users: {filter: '$OKTA_USER_FILTER'}
    groups: {filter: '$OKTA_GROUP_FILTER'}
  - name: globex
    url: $FAKE2_URL
    tokenEnv: GLOBEX_OKTA_TOKEN
    users: {filter: '$OKTA_USER_FILTER'}
    groups: {filter: '$OKTA_GROUP_FILTER'}
    groupTypes: {OKTA_GROUP: team, APP_GROUP: application}
YAML
# The catalog is asked to re-read after each change, so that the changes
# made while acme is down reach it in seconds rather than at its own pace.
env CONFIG_FILE="$WORK/orgs.yaml" ACME_OKTA_TOKEN=demo-token GLOBEX_OKTA_TOKEN=globex-token SYNC_INTERVAL=2s \
	BACKSTAGE_URL="$CATALOG_URL" BACKSTAGE_TOKEN="$CATALOG_TOKEN" BACKSTAGE_LOCATION_TARGET="$SERVICE_URL/entities" \
	LISTEN_ADDR="127.0.0.1:$SERVICE_PORT" LOG_FORMAT=json LOG_LEVEL=info \
	GROUP_HIERARCHY_KEY=orgId GROUP_HIERARCHY_PARENT_KEY=parentOrgId GROUP_MEMBERS=true \
	"$WORK/bin/okta-entity-provider" </dev/null >>"$WORK/service.log" 2>&1 &
SERVICE_PID=$!
WAIT_PID=$SERVICE_PID wait_until 60 "okta-entity-provider /readyz with two orgs on $SERVICE_URL" curl -fsS "$SERVICE_URL/readyz"
export FAKE_ORGS="acme=$FAKE_URL,globex=$FAKE2_URL" EXPECT_EXCLUDED_LOGIN_SUFFIX="@subsidiary.example.com"
collisions=$(curl -fsS "$SERVICE_URL/status" | json 'd.report.renames.filter(r => r.reason === "collision" && r.org === "globex").length')
log "service ready with two orgs: $(curl -fsS "$SERVICE_URL/status" | json 'd.orgs.map(o => `${o.name}: ${o.lastSync.outcome}`).join(", ")'); $collisions of globex's names renamed for a collision with acme's"
if [ "$collisions" -ge 100 ]; then
	pass "the second org's names collide with the first's and are renamed: $collisions collision renames"
else
	fail "only $collisions of the second org's names were renamed for a collision, want at least 100 (the orgs share a seed)"
fi
errors_mark=$(error_lines)
start_catalog "$SERVICE_URL/entities"
check ingest --wait 120 --label "two orgs merged" --errors-from "$errors_mark" --save "$WORK/orgs1.json" \
	--picture https://avatars.example.com/

org_failures() { curl -fsS "$SERVICE_URL/status" | json "d.orgs.find(o => o.name === '$1').failuresInARow"; }
acme_failing() { [ "$(org_failures acme)" -gt 0 ]; }
curl -fsS -X POST -H 'Content-Type: application/json' -d '{"down":true}' "$FAKE_URL/_fake/faults" >/dev/null
down_at=$(date +%s)
if wait_until 30 "acme's sync failing" acme_failing; then
	pass "/status shows acme's sync failing while its Okta is down ($(org_failures acme) in a row) and globex's $(org_failures globex)"
else
	fail "/status shows no failure of acme within 30s of its Okta going down"
fi
# Changes in globex while acme is down: a deactivation first (whose entity
# leaves the catalog at its next orphan cleanup, every 30 s), then new
# users in a group, each about 5 s after the last reached the catalog.
# Each must reach it with acme's entities all kept (acme's truth does not
# change while it is down, so the merged truth holds it as it was).
round=0
while [ $(($(date +%s) - down_at)) -lt 60 ]; do
	round=$((round + 1))
	pick=$(curl -fsS "$FAKE2_URL/_fake/truth?members=1" | json '(() => {
		const inGroups = new Set(d.groupList.filter(g => g.type === "OKTA_GROUP").flatMap(g => g.members));
		const users = d.userList.filter(u => u.status === "ACTIVE" && inGroups.has(u.id) && !u.login.endsWith("@subsidiary.example.com"));
		const g = d.groupList.find(g => g.type === "OKTA_GROUP" && g.usersCount >= 2);
		return [users[3].id, g.id].join(" ");
	})()')
	read -r deact_id change_group <<<"$pick"
	t0=$(date +%s)
	if [ "$round" = 1 ]; then
		what="user $deact_id deactivated"
		curl -fsS -X POST "$FAKE2_URL/_fake/users/$deact_id/deactivate" >/dev/null
		check absent --user "globex/$deact_id" --why "user deactivated in globex while acme is down" --wait 45 --label "globex change $round"
	else
		login="e2e.round$round@example.com"
		new_id=$(curl -fsS -X POST -H 'Content-Type: application/json' \
			-d "{\"profile\":{\"login\":\"$login\",\"email\":\"$login\",\"firstName\":\"Round\",\"lastName\":\"Number $round\"}}" \
			"$FAKE2_URL/_fake/users" | json 'd.id')
		curl -fsS -X PUT "$FAKE2_URL/_fake/groups/$change_group/users/$new_id" >/dev/null
		what="user $new_id added to group $change_group"
	fi
	check ingest --wait 45 --label "globex change $round ($what), acme down for $(($(date +%s) - down_at))s" --errors-from "$errors_mark"
	log "globex change $round ($what) in the catalog after $(($(date +%s) - t0))s"
	sleep 5
done
curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "$FAKE_URL/_fake/faults" >/dev/null
acme_ok() { [ "$(org_failures acme)" -eq 0 ]; }
if wait_until 30 "acme's sync ok again" acme_ok; then
	pass "acme syncs again once its Okta is back"
else
	fail "acme's sync still fails 30s after its Okta came back"
fi
check ingest --wait 60 --label "two orgs after acme came back" --errors-from "$errors_mark"
stop_pid "$FAKE2_PID" "second fake-okta"
FAKE2_PID=""
unset FAKE_ORGS EXPECT_EXCLUDED_LOGIN_SUFFIX

# ---------------------------------------------------------------------------
step "summary"
log "total run time $(($(date +%s) - STARTED_AT))s"
SUMMARY_PRINTED=1
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
