#!/usr/bin/env bash
# The service's steady state, measured on the real binary: the peak RSS of
# cmd/okta-entity-provider (VmHWM, the kernel's own peak) and the Okta calls
# it makes, against the fake Okta in its own process. bench/run.sh measures
# bench/syncbench, which mirrors the service in one process; this measures
# the service itself. Each phase ends on a completed sync seen on /status,
# not after a fixed sleep:
#
#   full           the first sync (full), then GET /entities with gzip, plain,
#                  and If-None-Match for each (304)
#   noop-1, noop-2 incremental syncs with nothing changed in Okta (the ETag
#                  stays, If-None-Match answers 304)
#   change-1..3    bench/orgchange's small change (10 user profiles, 5
#                  memberships added, 1 group deleted), the incremental sync
#                  that picks it up, then the GETs (the ETag changed)
#   restart-ready  SIGTERM (exit 0), the service started again on the same
#                  DATA_DIR, until /readyz is 200 (oktaCallsAtReady: the
#                  calls made by then), then the GETs
#   restart-sync   the restarted service's first sync (incremental), then the
#                  GETs; counted from the restart, as that sync starts once the
#                  saved state is loaded, while restart-ready's GETs run
#
# Each phase prints one JSON line: the last sync's mode, the syncs completed
# in the phase, the Okta calls and 429s the fake counted in the phase, the
# last sync's own call count from /status (syncOktaCalls), the call bound of
# the target for a small change (callBound), wall and sync seconds, the
# entity bodies' sizes, whether the ETag changed, and VmRSS and VmHWM in MiB
# at the end of the phase. The last line holds each process's overall VmHWM
# and the peak of the RSS sampled every 200 ms (rss-1.tsv and rss-2.tsv in
# OUT: epoch seconds, VmRSS kB, VmHWM kB). A failed check (status code,
# ETag, sync outcome or mode, exit status) prints a "# FAIL" line on stderr
# and makes the script exit 1 at the end; a wait that times out stops it.
#
# Usage: bench/service.sh [users:groups:memberships-per-user]
#   default: 100000:10000:10 (1,000,000 memberships)
# Environment: RATE_WINDOW (1s; memory does not depend on it, call counts
# neither; the per-window counts are bench/run.sh's), LATENCY (50ms),
# SYNC_INTERVAL (5s), WAIT (1800: seconds any one wait may last), OUT (a
# temp dir, kept, with the logs and the last bodies). GOMEMLIMIT and GOGC,
# when set, are passed to the service alone (not to the fake or the
# builds), so that runs with and without a limit compare.
#
# One function, main, read whole before it runs (see bench/lib.sh).
main() {
	. "$(dirname "$0")/lib.sh"
	begin "${1:-100000:10000:10}" RATE_WINDOW=1s LATENCY=50ms SYNC_INTERVAL=5s WAIT=1800
	LOG_WAIT=$WAIT
	# A rerun in the same OUT starts afresh: no saved state, no old samples.
	rm -rf "$OUT/data" "$OUT/rss-1.tsv" "$OUT/rss-2.tsv"

	fake_pid= svc_pid= sampler_pid= failures=0
	cleanup() { stop_all $svc_pid $sampler_pid $fake_pid; }
	trap cleanup EXIT

	fail() {
		echo "# FAIL: $*" >&2
		failures=$((failures + 1))
	}
	expect() { # got want what
		[ "$1" = "$2" ] || fail "$3: got $1, want $2"
	}

	# jobj prints the object under a key (or null).
	jobj() {
		local re="\"$2\":(\{[^}]*\}|null)"
		if [[ $1 =~ $re ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
	}
	now_ns() { echo "${EPOCHREALTIME/./}000"; }
	seconds_since() { awk -v a="$1" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }'; }
	mib() { awk -v k="$1" 'BEGIN { printf "%.1f", k / 1024 }'; }
	# mem prints the service's VmRSS and VmHWM in kB.
	mem() {
		awk '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { print r + 0, h + 0 }' "/proc/$svc_pid/status"
	}
	# sample appends "epoch VmRSS VmHWM" of process $1 to $2 every 200 ms
	# while it lives.
	sample() {
		while [ -r "/proc/$1/status" ]; do
			awk -v t="$EPOCHREALTIME" '/^VmRSS:/ { r = $2 } /^VmHWM:/ { h = $2 } END { if (r) print t, r, h }' \
				"/proc/$1/status" 2>/dev/null || break
			sleep 0.2
		done >>"$2"
	}
	sampled_peak() { awk '$2 > p { p = $2 } END { printf "%.1f", p / 1024 }' "$1"; }
	fake_counts() { # prints "calls rateLimited"
		local s
		s=$(curl -fsS "$fake/_fake/stats")
		echo "$(jnum "$s" calls) $(jnum "$s" rateLimited)"
	}

	start_service() { # n
		svc_n=$1
		env -i PATH="$PATH" HOME="${HOME:-/tmp}" ${GOMEMLIMIT:+GOMEMLIMIT="$GOMEMLIMIT"} ${GOGC:+GOGC="$GOGC"} \
			OKTA_ORG_URL="$fake" OKTA_TOKEN=demo-token LISTEN_ADDR=127.0.0.1:0 SYNC_INTERVAL="$SYNC_INTERVAL" \
			DATA_DIR="$OUT/data" LOG_FORMAT=json LOG_LEVEL=info \
			"$OUT/okta-entity-provider" >"$OUT/service-$svc_n.log" 2>&1 &
		svc_pid=$!
		sample "$svc_pid" "$OUT/rss-$svc_n.tsv" &
		sampler_pid=$!
		local addr
		addr=$(wait_log "$OUT/service-$svc_n.log" '.*"message":"listening".*')
		addr=$(jstr "$addr" addr)
		[ -n "$addr" ] || die "no listen address in $OUT/service-$svc_n.log"
		svc="http://$addr"
		seen_failed=0
	}

	# wait_sync waits until /status counts $1 completed syncs, the last one
	# started at or after $2 (epoch ns; 0: any time), and leaves the
	# /status body in st and its lastSync in last.
	wait_sync() {
		local want=$1 since=$2 deadline=$((SECONDS + WAIT)) syncs completed failed started
		while :; do
			alive || die "the service exited; see $OUT/service-$svc_n.log"
			st=$(curl -fsS "$svc/status" 2>/dev/null || true)
			syncs=$(jobj "$st" syncs)
			completed=$(jnum "$syncs" completed)
			failed=$(jnum "$syncs" failed)
			last=$(jobj "$st" lastSync)
			if [ "${failed:-0}" -gt "$seen_failed" ]; then
				fail "sync failed: $(jstr "$last" error)"
				seen_failed=$failed
			fi
			if [ "${completed:-0}" -ge "$want" ]; then
				started=$(jstr "$last" startedAt)
				if [ "$since" = 0 ] || [ "$(date -u -d "$started" +%s%N)" -ge "$since" ]; then
					expect "$(jstr "$last" outcome)" ok "outcome of sync $want"
					return
				fi
			fi
			[ $SECONDS -lt $deadline ] || die "timed out after ${WAIT}s waiting for sync $want; /status: ${st:0:500}"
			sleep 0.2
		done
	}

	# get_entities GETs /entities with gzip and plain, and each again with
	# If-None-Match; it checks the answers and sets etag, gzip_mib,
	# plain_mib.
	get_entities() {
		local code gz_etag header='s/^[Ee][Tt][Aa][Gg]:[[:space:]]*//p'
		code=$(curl -sS -o "$OUT/entities.yaml.gz" -D "$OUT/entities-gzip.headers" -H 'Accept-Encoding: gzip' \
			-w '%{http_code}' "$svc/entities" || true)
		expect "$code" 200 "GET /entities (gzip)"
		tr -d '\r' <"$OUT/entities-gzip.headers" | grep -qi '^content-encoding: *gzip$' ||
			fail "GET /entities (gzip): no Content-Encoding: gzip"
		gz_etag=$(tr -d '\r' <"$OUT/entities-gzip.headers" | sed -n "$header")
		code=$(curl -sS -o "$OUT/entities.yaml" -D "$OUT/entities.headers" -w '%{http_code}' "$svc/entities" || true)
		expect "$code" 200 "GET /entities (plain)"
		if tr -d '\r' <"$OUT/entities.headers" | grep -qi '^content-encoding:'; then
			fail "GET /entities (plain): encoded though gzip was not asked for"
		fi
		etag=$(tr -d '\r' <"$OUT/entities.headers" | sed -n "$header")
		[ -n "$etag" ] || fail "GET /entities: no ETag"
		gzip -dc "$OUT/entities.yaml.gz" | cmp -s - "$OUT/entities.yaml" ||
			fail "GET /entities: the gzip body does not decompress to the plain body"
		code=$(curl -sS -o /dev/null -H "If-None-Match: $etag" -w '%{http_code}' "$svc/entities" || true)
		expect "$code" 304 "GET /entities with If-None-Match (plain)"
		code=$(curl -sS -o /dev/null -H 'Accept-Encoding: gzip' -H "If-None-Match: $gz_etag" -w '%{http_code}' "$svc/entities" || true)
		expect "$code" 304 "GET /entities with If-None-Match (gzip)"
		gzip_mib=$(mib $(($(stat -c %s "$OUT/entities.yaml.gz") / 1024)))
		plain_mib=$(mib $(($(stat -c %s "$OUT/entities.yaml") / 1024)))
	}

	# A phase runs from begin to emit, which prints its line; extra is more
	# JSON fields, each with a leading comma.
	begin() {
		p_t0=$EPOCHREALTIME
		read -r p_calls p_429 < <(fake_counts)
		p_syncs=$(jnum "$(jobj "$(curl -fsS "$svc/status" 2>/dev/null || true)" syncs)" completed)
	}
	emit() { # name extra
		local calls n429 rss hwm mode syncs sync_calls sync_seconds
		read -r calls n429 < <(fake_counts)
		read -r rss hwm < <(mem)
		st=$(curl -fsS "$svc/status")
		last=$(jobj "$st" lastSync)
		syncs=$(jnum "$(jobj "$st" syncs)" completed)
		mode=$(jstr "$last" mode)
		sync_calls=$(jnum "$last" oktaCalls)
		sync_seconds=$(jnum "$last" durationSeconds)
		if [ -n "$sync_seconds" ]; then
			sync_seconds=$(awk -v s="$sync_seconds" 'BEGIN { printf "%.1f", s }')
		fi
		printf '{"phase":"%s","mode":%s,"syncs":%d,"oktaCalls":%d,"syncOktaCalls":%s,"rateLimited":%d,"wallSeconds":%s,"syncSeconds":%s,"vmRSSMiB":%s,"vmHWMMiB":%s%s}\n' \
			"$1" "$([ -n "$mode" ] && echo "\"$mode\"" || echo null)" $((${syncs:-0} - ${p_syncs:-0})) $((calls - p_calls)) \
			"${sync_calls:-null}" $((n429 - p_429)) "$(seconds_since "$p_t0")" \
			"${sync_seconds:-null}" "$(mib "$rss")" "$(mib "$hwm")" "$2"
	}
	bodies() { # changed
		printf ',"plainMiB":%s,"gzipMiB":%s,"changed":%s' "$plain_mib" "$gzip_mib" "$1"
	}
	changed() { # previous ETag; prints true or false
		if [ "$etag" = "$1" ]; then echo false; else echo true; fi
	}

	env -u GOMEMLIMIT -u GOGC go build -o "$OUT/fake-okta" ./cmd/fake-okta
	env -u GOMEMLIMIT -u GOGC go build -o "$OUT/okta-entity-provider" ./cmd/okta-entity-provider
	env -u GOMEMLIMIT -u GOGC go build -o "$OUT/orgchange" ./bench/orgchange
	commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
	dirty=$(git status --short 2>/dev/null | wc -l)

	start_fake
	for _ in $(seq 1 600); do
		if curl -fsS "$fake/_fake/stats" >/dev/null 2>&1; then
			break
		fi
		sleep 0.5
	done
	memberships=$(wait_log "$OUT/fake.log" '[0-9]+ memberships')
	echo "# commit $commit ($dirty uncommitted changes), $users users, $groups groups, ${memberships% *} memberships;" \
		"window $RATE_WINDOW, latency $LATENCY, sync interval $SYNC_INTERVAL;" \
		"GOMEMLIMIT=${GOMEMLIMIT:-unset} GOGC=${GOGC:-unset}; out $OUT"

	# The first process: full sync, no-change syncs, small changes.
	p_t0=$EPOCHREALTIME p_syncs=0
	read -r p_calls p_429 < <(fake_counts)
	start_service 1
	wait_sync 1 0
	expect "$(jstr "$last" mode)" full "mode of the first sync"
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$svc/readyz" || true)
	expect "$code" 200 "GET /readyz after the first sync"
	get_entities
	users_served=$(awk '/^kind: User$/ { n++ } END { print n + 0 }' "$OUT/entities.yaml")
	expect "$users_served" "$(jnum "$(jobj "$st" snapshot)" users)" "users in /entities against /status"
	emit full "$(bodies true)"

	for i in 1 2; do
		begin
		prev=$etag
		wait_sync $((p_syncs + 1)) 0
		expect "$(jstr "$last" mode)" incremental "mode of no-change sync $i"
		etag=$(jstr "$(jobj "$st" snapshot)" etag)
		code=$(curl -sS -o /dev/null -H "If-None-Match: $prev" -w '%{http_code}' "$svc/entities" || true)
		expect "$code" 304 "GET /entities with the last ETag after no-change sync $i"
		c=$(changed "$prev")
		expect "$c" false "ETag changed by no-change sync $i"
		emit "noop-$i" ",\"changed\":$c"
	done

	for i in 1 2 3; do
		begin
		prev=$etag
		change=$("$OUT/orgchange" -okta-url "$fake")
		since=$(now_ns)
		wait_sync $((p_syncs + 1)) "$since"
		expect "$(jstr "$last" mode)" incremental "mode of small-change sync $i"
		get_entities
		c=$(changed "$prev")
		expect "$c" true "ETag changed by small-change sync $i"
		emit "change-$i" ",\"callBound\":$(jnum "$change" callBound)$(bodies "$c")"
	done

	# The restarted process, on the same DATA_DIR.
	read -r _ first_hwm < <(mem)
	stop_t0=$EPOCHREALTIME
	kill -TERM "$svc_pid"
	rc=0
	wait "$svc_pid" || rc=$?
	expect "$rc" 0 "exit status after SIGTERM"
	stop_seconds=$(seconds_since "$stop_t0")
	wait "$sampler_pid" || true
	svc_pid= sampler_pid=
	first_sampled=$(sampled_peak "$OUT/rss-1.tsv")

	p_t0=$EPOCHREALTIME p_syncs=0
	read -r p_calls p_429 < <(fake_counts)
	prev=$etag
	start_service 2
	deadline=$((SECONDS + WAIT))
	until [ "$(curl -sS -o /dev/null -w '%{http_code}' "$svc/readyz" || true)" = 200 ]; do
		[ $SECONDS -lt $deadline ] || die "timed out waiting for /readyz after the restart"
		alive || die "the service exited; see $OUT/service-2.log"
		sleep 0.05
	done
	ready_seconds=$(seconds_since "$p_t0")
	read -r ready_calls _ < <(fake_counts)
	get_entities
	c=$(changed "$prev")
	expect "$c" false "ETag changed by the restart"
	emit restart-ready ",\"stopSeconds\":$stop_seconds,\"readySeconds\":$ready_seconds,\"oktaCallsAtReady\":$((ready_calls - p_calls))$(bodies "$c")"

	# restart-sync counts from the restart too: the first sync starts as
	# soon as the saved state is loaded, while restart-ready's GETs run.
	prev=$etag
	wait_sync 1 0
	expect "$(jstr "$last" mode)" incremental "mode of the first sync after the restart"
	get_entities
	c=$(changed "$prev")
	expect "$c" false "ETag changed by the first sync after the restart"
	emit restart-sync "$(bodies "$c")"

	read -r _ restarted_hwm < <(mem)
	printf '{"phase":"summary","firstVmHWMMiB":%s,"restartedVmHWMMiB":%s,"firstSampledPeakRSSMiB":%s,"restartedSampledPeakRSSMiB":%s,"failures":%d}\n' \
		"$(mib "$first_hwm")" "$(mib "$restarted_hwm")" "$first_sampled" "$(sampled_peak "$OUT/rss-2.tsv")" "$failures"
	[ "$failures" -eq 0 ]
}
main "$@"
