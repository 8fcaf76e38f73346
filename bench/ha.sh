#!/usr/bin/env bash
# Shared mode (DATABASE_URL) measured on the real binaries: three replicas
# of cmd/okta-entity-provider on one PostgreSQL (initdb in a temporary
# directory, run as nobody when the script runs as root) against
# cmd/fake-okta. Phases:
#
#   single        one instance without a database: the Okta calls of its
#                 full sync and of one no-change incremental sync (the
#                 baseline)
#   start         three replicas at once: the Okta calls until all are ready
#   steady        the calls per sync with nothing changed, over STEADY_SYNCS
#                 of the leader's syncs
#   change        a random change: the seconds until all three serve the
#                 same new ETag, and that they serve the exact org
#   kill-during   kill -9 of the leader while it syncs a change: the seconds
#                 from the kill until the survivors serve the change, the
#                 new leader's sync modes (incremental only), exactness
#   kill-between  the same, the new leader killed between two syncs
#   converge      ROUNDS rounds of random changes, the leader killed -9 and
#                 restarted every other round: all replicas exact at the end
#   pg-down       PostgreSQL stopped for PG_DOWN seconds: every replica's
#                 answers during it (any non-200 or a different ETag fails),
#                 then a change after the restart, served by all
#
# "Exact" is the ETag a fresh instance (no database) serves after its own
# full sync of the same fake. Each phase prints one JSON line; a failed
# check prints "# FAIL ..." on stderr and makes the script exit 1.
#
# Usage: bench/ha.sh
# Environment: USERS (5000), NGROUPS (500), LATENCY (the fake's per-call
# delay while replicas run, 100ms), SYNC_INTERVAL (5s), HA_LEASE_TTL (10s),
# STEADY_SYNCS (4), ROUNDS (6), PG_DOWN (30), OUT (a temp dir, kept, with
# the logs).
# shellcheck source=../scripts/lib/service.sh
. "$(dirname "${BASH_SOURCE[0]}")/../scripts/lib/service.sh"

main() {
	prepare USERS=5000 NGROUPS=500 LATENCY=100ms SYNC_INTERVAL=5s HA_LEASE_TTL=10s \
		STEADY_SYNCS=4 ROUNDS=6 PG_DOWN=30
	chmod 755 "$OUT"
	failed=0
	declare -gA pids=()
	trap cleanup EXIT

	start_pg
	fport=19581
	fake="http://127.0.0.1:$fport"
	"$OUT/fake-okta" -addr "127.0.0.1:$fport" -users "$USERS" -groups "$NGROUPS" >"$OUT/fake.log" 2>&1 &
	pids[fake]=$!
	wait_http "$fake/_fake/stats"

	# single: the baseline.
	reset_stats
	start_single 19590 "$OUT/single.log"
	wait_ready http://127.0.0.1:19590
	local full_calls noop_calls
	full_calls=$(fake_calls)
	reset_stats
	local n
	n=$(completed http://127.0.0.1:19590)
	wait_syncs http://127.0.0.1:19590 $((n + 1))
	noop_calls=$(fake_calls)
	stop single
	echo "{\"phase\":\"single\",\"fullSyncCalls\":$full_calls,\"noChangeSyncCalls\":$noop_calls}"

	# start: three replicas at once.
	set_latency "$LATENCY"
	reset_stats
	for r in a b c; do start_replica "$r"; done
	for r in a b c; do wait_ready "$(url "$r")" 180; done
	local start_calls
	start_calls=$(fake_calls)
	echo "{\"phase\":\"start\",\"replicas\":3,\"oktaCalls\":$start_calls,\"singleFullSyncCalls\":$full_calls}"
	[ "$start_calls" -le "$full_calls" ] || fail "three replicas made $start_calls Okta calls at start, one instance's full sync makes $full_calls"
	same_etags a b c >/dev/null || fail "the replicas' ETags differ after the start"

	# steady: calls per sync with nothing changed.
	local leader syncs0 syncs1 steady_calls
	leader=$(leader_of a b c)
	syncs0=$(completed "$(url "$leader")")
	reset_stats
	wait_syncs "$(url "$leader")" $((syncs0 + STEADY_SYNCS)) 180
	steady_calls=$(fake_calls)
	syncs1=$(completed "$(url "$leader")")
	python3 -c "import sys; c,s=$steady_calls,$((syncs1 - syncs0)); print('{\"phase\":\"steady\",\"leaderSyncs\":%d,\"oktaCalls\":%d,\"callsPerSync\":%.1f,\"singleNoChangeSyncCalls\":$noop_calls}' % (s, c, c/s))"
	[ "$steady_calls" -le $(((syncs1 - syncs0 + 1) * noop_calls)) ] || fail "steady state: $steady_calls calls in $((syncs1 - syncs0)) syncs, one instance makes $noop_calls per sync"

	# change: all replicas converge on the same new ETag.
	local before t0 secs
	before=$(etag_of "$(url a)")
	watch_etags a b c
	t0=$(now)
	change 1
	wait_new_etag "$before" a b c
	secs=$(since "$t0")
	check_exact change "$t0" a b c
	echo "{\"phase\":\"change\",\"secondsToAllReplicas\":$secs,\"secondsToExact\":$exact_secs,\"exact\":$exact_ok}"

	failover kill-during a b c
	failover kill-between $(survivors)

	# converge: random changes across leader changes.
	stop_watch
	for r in a b c; do [ -n "${pids[$r]:-}" ] || start_replica "$r"; done
	for r in a b c; do wait_ready "$(url "$r")" 180; done
	local i kills=0
	for i in $(seq 1 "$ROUNDS"); do
		change $((100 + i))
		if [ $((i % 2)) = 0 ]; then
			leader=$(leader_of a b c)
			kill -9 "${pids[$leader]}"
			wait "${pids[$leader]}" 2>/dev/null || true
			unset "pids[$leader]"
			kills=$((kills + 1))
			start_replica "$leader"
		fi
		sleep 2
	done
	for r in a b c; do wait_ready "$(url "$r")" 180; done
	before=$(etag_of "$(url a)")
	watch_etags a b c
	t0=$(now)
	change 200 # after the last kill, so that the leader of the end syncs
	wait_new_etag "$before" a b c
	check_exact converge "$t0" a b c
	echo "{\"phase\":\"converge\",\"rounds\":$ROUNDS,\"leaderKills\":$kills,\"exact\":$exact_ok}"

	stop_watch
	# pg-down: the database stopped for PG_DOWN seconds.
	local bad=0 answers=0 code e want
	want=$(etag_of "$(url a)")
	stop_pg
	t0=$(date +%s)
	while [ $(($(date +%s) - t0)) -lt "$PG_DOWN" ]; do
		for r in a b c; do
			code=$(curl -s -o /dev/null -w '%{http_code}' "$(url "$r")/readyz")
			e=$(curl -s -D - -o /dev/null "$(url "$r")/entities" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
			answers=$((answers + 1))
			if [ "$code" != 200 ] || [ "$e" != "$want" ]; then bad=$((bad + 1)); fi
		done
		sleep 1
	done
	local outage
	outage=$(curl -fsS "$(url a)/status" | python3 -c 'import json,sys; d=json.load(sys.stdin)["ha"]["database"]; print("%s/%.0f" % (d["available"], d["outageSeconds"]))')
	start_pg_again
	watch_etags a b c
	t0=$(now)
	change 300
	wait_new_etag "$want" a b c
	secs=$(since "$t0")
	check_exact pg-down "$t0" a b c
	echo "{\"phase\":\"pg-down\",\"downSeconds\":$PG_DOWN,\"answersDuringOutage\":$answers,\"badAnswers\":$bad,\"statusDuringOutage\":\"$outage\",\"secondsToServeNextChange\":$secs,\"exact\":$exact_ok}"
	[ "$bad" = 0 ] || fail "$bad answers during the database outage were not 200 with the served ETag"
	return $failed
}

fail() {
	echo "# FAIL $*" >&2
	failed=1
}

cleanup() {
	local p
	for p in "${pids[@]}"; do kill -9 "$p" 2>/dev/null || true; done
	[ -n "${pgbin:-}" ] && as_pg "$pgbin/pg_ctl" -D "$OUT/pg/data" -m immediate stop >/dev/null 2>&1 || true
}

# as_pg runs a command as the PostgreSQL user: nobody when root.
as_pg() {
	if [ "$(id -u)" = 0 ]; then runuser -u nobody -- "$@"; else "$@"; fi
}

start_pg() {
	pgbin=$(dirname "$(readlink -f "$(command -v initdb 2>/dev/null || ls -d /usr/lib/postgresql/*/bin/initdb | sort -V | tail -1)")")
	rm -rf "$OUT/pg"
	mkdir -p "$OUT/pg"
	[ "$(id -u)" = 0 ] && chown nobody "$OUT/pg"
	as_pg "$pgbin/initdb" -D "$OUT/pg/data" -U postgres --auth=trust --no-locale -E UTF8 --no-sync >"$OUT/initdb.log"
	pgport=19599
	start_pg_again
	"$pgbin/psql" -h 127.0.0.1 -p "$pgport" -U postgres -qc "CREATE DATABASE ha" postgres
}

start_pg_again() {
	as_pg "$pgbin/pg_ctl" -D "$OUT/pg/data" -l "$OUT/pg/log" -w \
		-o "-c listen_addresses=127.0.0.1 -p $pgport -k $OUT/pg -c fsync=off" start >/dev/null
}

stop_pg() { as_pg "$pgbin/pg_ctl" -D "$OUT/pg/data" -m fast -w stop >/dev/null; }

port_of() { case $1 in a) echo 19591 ;; b) echo 19592 ;; c) echo 19593 ;; esac; }
url() { echo "http://127.0.0.1:$(port_of "$1")"; }

start_single() {
	OKTA_ORG_URL=$fake OKTA_TOKEN=demo-token LISTEN_ADDR="127.0.0.1:$1" SYNC_INTERVAL=$SYNC_INTERVAL \
		"$OUT/okta-entity-provider" >>"$2" 2>&1 &
	pids[single]=$!
}

start_replica() {
	OKTA_ORG_URL=$fake OKTA_TOKEN=demo-token LISTEN_ADDR="127.0.0.1:$(port_of "$1")" SYNC_INTERVAL=$SYNC_INTERVAL \
		DATABASE_URL="postgres://postgres@127.0.0.1:$pgport/ha?sslmode=disable" REPLICA_ID="$1" HA_LEASE_TTL=$HA_LEASE_TTL \
		"$OUT/okta-entity-provider" >>"$OUT/replica-$1.log" 2>&1 &
	pids[$1]=$!
}

stop() {
	kill "${pids[$1]}"
	wait "${pids[$1]}" 2>/dev/null || true
	unset "pids[$1]"
}

survivors() {
	local r
	for r in a b c; do [ -n "${pids[$r]:-}" ] && echo "$r"; done
}

# failover NAME REPLICAS...: kill -9 the leader during a sync (kill-during)
# or right after one (kill-between) of a change, and time the survivors.
failover() {
	local name=$1 leader before lines t0 secs survivors=() r modes
	shift
	leader=$(leader_of "$@")
	for r in "$@"; do [ "$r" != "$leader" ] && survivors+=("$r"); done
	before=$(etag_of "$(url "$leader")")
	lines=$(wc -l <"$OUT/replica-$leader.log")
	if [ "$name" = kill-during ]; then
		change 10
		wait_log "$leader" "$lines" '"message":"sync started"'
	else
		wait_log "$leader" "$lines" '"message":"sync finished"'
		change 20
	fi
	watch_etags "${survivors[@]}"
	kill -9 "${pids[$leader]}"
	t0=$(now)
	wait "${pids[$leader]}" 2>/dev/null || true
	unset "pids[$leader]"
	wait_new_etag "$before" "${survivors[@]}"
	secs=$(since "$t0")
	local next
	next=$(leader_of "${survivors[@]}")
	modes=$(grep -o '"mode":"[a-z]*","time":"[^"]*","message":"sync started"' "$OUT/replica-$next.log" | cut -d'"' -f4 | sort | uniq -c | tr -s ' ' | tr '\n' ' ')
	check_exact "$name" "$t0" "${survivors[@]}"
	echo "{\"phase\":\"$name\",\"killed\":\"$leader\",\"newLeader\":\"$next\",\"secondsToServeChange\":$secs,\"secondsToExact\":$exact_secs,\"newLeaderSyncs\":\"${modes# }\",\"exact\":$exact_ok}"
	python3 -c "import sys; sys.exit(0 if '$exact_secs' != 'null' and float('$exact_secs') <= 15 else 1)" ||
		fail "$name: the survivors served the exact org $exact_secs s after the kill, want within 15 s"
	if grep -q '"mode":"full","time":"[^"]*","message":"sync started"' "$OUT/replica-$next.log"; then
		fail "$name: the new leader $next ran a full sync"
	fi
}

wait_log() {
	local r=$1 from=$2 pattern=$3
	for _ in $(seq 1 600); do
		tail -n +"$((from + 1))" "$OUT/replica-$r.log" | grep -q "$pattern" && return 0
		sleep 0.05
	done
	fail "replica $r never logged $pattern"
	exit 1
}

change() {
	curl -fsS -X POST -d "{\"seed\":$1,\"userAdds\":2,\"userUpdates\":5,\"userDeletions\":1,\"groupAdds\":1,\"groupRenames\":1,\"memberAdds\":5,\"memberRemoves\":3}" \
		"$fake/_fake/changes" >/dev/null
}

set_latency() { curl -fsS -X POST -d "{\"latency\":\"$1\"}" "$fake/_fake/latency" >/dev/null; }
reset_stats() { curl -fsS -X POST "$fake/_fake/stats/reset" >/dev/null; }
fake_calls() { curl -fsS "$fake/_fake/stats" | python3 -c 'import json,sys; print(json.load(sys.stdin)["calls"])'; }
now() { date +%s.%N; }
since() { python3 -c "import time; print('%.1f' % (time.time() - $1))"; }

leader_of() {
	local r
	for _ in $(seq 1 300); do
		for r in "$@"; do
			if curl -fsS "$(url "$r")/status" 2>/dev/null | python3 -c 'import json,sys; sys.exit(0 if json.load(sys.stdin)["ha"]["role"]=="leader" else 1)' 2>/dev/null; then
				echo "$r"
				return 0
			fi
		done
		sleep 0.2
	done
	fail "no replica of $* leads"
	exit 1
}

etag_of() { curl -fsS "$1/status" | python3 -c 'import json,sys; print((json.load(sys.stdin)["snapshot"] or {}).get("etag",""))'; }

# same_etags prints the replicas' common ETag; it fails when they differ.
same_etags() {
	local r e first=""
	for r in "$@"; do
		e=$(curl -s -D - -o /dev/null "$(url "$r")/entities" | tr -d '\r' | awk -F': ' 'tolower($1)=="etag"{print $2}')
		[ -n "$e" ] || return 1
		[ -z "$first" ] && first=$e
		[ "$e" = "$first" ] || return 1
	done
	echo "$first"
}

wait_new_etag() {
	local before=$1 e
	shift
	for _ in $(seq 1 1200); do
		if e=$(same_etags "$@") && [ "$e" != "$before" ]; then return 0; fi
		sleep 0.1
	done
	fail "replicas $* never served the same new ETag"
	exit 1
}

# check_exact NAME T0 REPLICAS...: waits until the replicas serve the ETag
# a fresh instance serves after its own full sync (the exact org; an
# incremental sync sees a deletion once the System Log shows it, a couple
# of seconds later), and sets exact_ok, and exact_secs to the seconds from
# T0 until they first served it (from the watch_etags record).
check_exact() {
	local name=$1 t0=$2 port=19594 want
	shift 2
	start_single $port "$OUT/fresh.log"
	pids[fresh]=${pids[single]}
	unset "pids[single]"
	wait_ready "http://127.0.0.1:$port"
	want=$(etag_of "http://127.0.0.1:$port")
	stop fresh
	exact_ok=false
	exact_secs=null
	for _ in $(seq 1 600); do
		if [ "$(same_etags "$@" || echo differ)" = "$want" ]; then
			exact_ok=true
			break
		fi
		sleep 0.1
	done
	if [ $exact_ok = false ]; then
		fail "$name: the replicas never served $want, the ETag of a fresh instance"
		return
	fi
	local at
	at=$(awk -v e="$want" '$2 == e {print $1; exit}' "$OUT/etags.tsv")
	if [ -z "$at" ]; then at=$(now); fi
	exact_secs=$(python3 -c "print('%.1f' % max(0, $at - $t0))")
}

# watch_etags REPLICAS...: records, every 0.1 s, each change of the ETag
# the replicas all serve ("differ" while they differ) in etags.tsv.
watch_etags() {
	stop_watch
	: >"$OUT/etags.tsv"
	(
		local last="" e
		while :; do
			e=$(same_etags "$@" || echo differ)
			if [ "$e" != "$last" ]; then
				echo "$(now) $e" >>"$OUT/etags.tsv"
				last=$e
			fi
			sleep 0.1
		done
	) &
	pids[watch]=$!
}

stop_watch() {
	if [ -n "${pids[watch]:-}" ]; then
		kill "${pids[watch]}" 2>/dev/null || true
		wait "${pids[watch]}" 2>/dev/null || true
		unset "pids[watch]"
	fi
}

main "$@"
