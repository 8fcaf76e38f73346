#!/usr/bin/env bash
# The service against a broken or hostile Okta: cmd/okta-entity-provider run
# against cmd/fake-okta, first as it is (normal), then with each of its
# -hostile modes (oktafake.HostileModes):
#
#   cycle          listings whose two pages link to each other
#   endless        user and member listings that never end, fresh users on
#                  every page
#   huge-body      listings answered with a 300 MB page, streamed
#   gzip-bomb      listings answered with a small gzip body that inflates to
#                  4 GiB
#   far-reset      X-Rate-Limit-Reset 100 years ahead on every answer, and a
#                  429 with it on every 5th request
#   empty-members  member listings answer [] while the groups' usersCount
#                  says otherwise
#   no-id          null, {} and {"id":""} mixed into users, groups and
#                  members pages
#
# Each mode gets a fresh fake, a fresh service and an empty DATA_DIR, and
# runs until the service's first sync has finished or failed (polled on
# /status), or for DURATION seconds. It prints one JSON line per mode and
# then a table: the sync's outcome and error, the catalog the service served
# (the users, groups and memberships of /status's snapshot and report, and
# GET /entities's status) against the normal run's, the requests the fake
# answered, the service's peak RSS (VmHWM, the kernel's own peak, read from
# /proc/<pid>/status) and how it compares with the normal run's. A mode
# passes when the peak RSS is under twice the normal run's and the service
# served either nothing or exactly the normal catalog: never an inflated or
# partial one. The script exits 1 when any mode fails.
#
# A service whose RSS passes RSS_CAP_MIB is stopped (its peak is then at
# least the cap, and the mode fails), so that a run cannot exhaust the
# machine's memory.
#
# Usage: bench/hostile.sh [users:groups:memberships-per-user] [mode...]
#   default: 20000:2000:10 and every mode
# Environment: DURATION (300: seconds a mode may run), RSS_CAP_MIB (4096),
# SYNC_INTERVAL (10s), LATENCY (0s: the fake's delay per response), OUT (a
# temp dir, kept, with the logs).
#
# One function, main, read whole before it runs (see bench/lib.sh).
main() {
	. "$(dirname "$0")/lib.sh"
	begin "${1:-20000:2000:10}" DURATION=300 RSS_CAP_MIB=4096 SYNC_INTERVAL=10s LATENCY=0s
	shift $(($# > 0 ? 1 : 0))

	fake_pid= svc_pid= failures=0
	cleanup() { stop_all $svc_pid $fake_pid; }
	trap cleanup EXIT

	# jobj prints the object under a key (one without nested objects) or
	# null.
	jobj() {
		local re="\"$2\":(\{[^{}]*\}|null)"
		if [[ $1 =~ $re ]]; then printf '%s' "${BASH_REMATCH[1]}"; fi
	}
	mib() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }
	# kb prints a field of the service's /proc status in kB (0 when gone).
	kb() {
		local v
		v=$(awk -v f="$1:" '$1 == f { print $2 }' "/proc/$svc_pid/status" 2>/dev/null || true)
		echo "${v:-0}"
	}
	build
	dirty=$( (git status --short 2>/dev/null || true) | wc -l)
	modes=("$@")
	if [ ${#modes[@]} -eq 0 ]; then
		modes=(cycle endless huge-body gzip-bomb far-reset empty-members no-id)
	fi
	echo "# commit $commit ($dirty uncommitted changes), $users users, $groups groups, $per memberships per user;" \
		"duration ${DURATION}s, RSS cap ${RSS_CAP_MIB} MiB, latency $LATENCY; out $OUT"

	# run_mode runs the service against the fake in mode $1 ("normal":
	# none) and sets the r_* results.
	run_mode() {
		local mode=$1 flag=() st syncs completed failed snap started deadline
		[ "$mode" = normal ] || flag=(-hostile "$mode")
		# A log left by an earlier run in OUT must not be read as this one's.
		rm -f "$OUT/fake-$mode.log" "$OUT/service-$mode.log"
		"$OUT/fake-okta" -addr 127.0.0.1:0 -users "$users" -groups "$groups" -memberships "$per" -seed 1 \
			-latency "$LATENCY" "${flag[@]}" >"$OUT/fake-$mode.log" 2>&1 &
		fake_pid=$!
		fake=$(wait_log "$OUT/fake-$mode.log" 'listening on http://[^ ]*')
		fake=${fake#listening on }
		rm -rf "$OUT/data-$mode"
		env -i PATH="$PATH" HOME="${HOME:-/tmp}" OKTA_ORG_URL="$fake" OKTA_TOKEN=demo-token \
			LISTEN_ADDR=127.0.0.1:0 SYNC_INTERVAL="$SYNC_INTERVAL" DATA_DIR="$OUT/data-$mode" \
			LOG_FORMAT=json LOG_LEVEL=info "$OUT/okta-entity-provider" >"$OUT/service-$mode.log" 2>&1 &
		svc_pid=$!
		svc=$(wait_log "$OUT/service-$mode.log" '.*"message":"listening".*')
		svc="http://$(jstr "$svc" addr)"

		r_outcome=timeout r_error= r_users= r_groups= r_memberships= r_inflated=0
		started=$SECONDS deadline=$((SECONDS + DURATION))
		while :; do
			if ! alive; then
				r_outcome=exited r_error="the service exited; see $OUT/service-$mode.log"
				break
			fi
			if [ "$(kb VmRSS)" -gt $((RSS_CAP_MIB * 1024)) ]; then
				r_outcome=rss-cap r_error="stopped at the RSS cap of $RSS_CAP_MIB MiB"
				break
			fi
			st=$(curl -fsS --max-time 5 "$svc/status" 2>/dev/null || true)
			snap=$(jobj "$st" snapshot)
			if [ -n "$(jnum "$snap" users)" ]; then
				# Every snapshot seen is compared, not only the last one.
				# The first "memberships" of /status is its report's.
				r_users=$(jnum "$snap" users) r_groups=$(jnum "$snap" groups) r_memberships=$(jnum "$st" memberships)
				if [ "$mode" != normal ] && [ "$r_users:$r_groups:$r_memberships" != "$n_users:$n_groups:$n_memberships" ]; then
					r_inflated=1
				fi
			fi
			syncs=$(jobj "$st" syncs)
			completed=$(jnum "$syncs" completed) failed=$(jnum "$syncs" failed)
			if [ "${completed:-0}" -ge 1 ] || [ "${failed:-0}" -ge 1 ]; then
				# The first outcome and error of /status are lastSync's.
				r_outcome=$(jstr "$st" outcome) r_error=$(jstr "$st" error)
				break
			fi
			[ $SECONDS -lt $deadline ] || break
			sleep 0.5
		done
		r_seconds=$((SECONDS - started))
		r_entities=$(curl -sS -o /dev/null --max-time 10 -w '%{http_code}' "$svc/entities" 2>/dev/null || true)
		r_calls=$(jnum "$(curl -fsS --max-time 5 "$fake/_fake/stats" 2>/dev/null || true)" calls)
		r_hwm=$(kb VmHWM)
		kill "$svc_pid" "$fake_pid" 2>/dev/null || true
		wait "$svc_pid" 2>/dev/null || true
		wait "$fake_pid" 2>/dev/null || true
		svc_pid= fake_pid=
	}

	rows=()
	for mode in normal "${modes[@]}"; do
		run_mode "$mode"
		if [ "$mode" = normal ]; then
			[ "$r_outcome" = ok ] && [ -n "$r_users" ] ||
				die "the normal run did not sync: $r_outcome $r_error; see $OUT/service-normal.log"
			n_users=$r_users n_groups=$r_groups n_memberships=$r_memberships n_hwm=$r_hwm
		fi
		ratio=$(awk -v a="$r_hwm" -v b="$n_hwm" 'BEGIN { printf "%.2f", a / b }')
		catalog="none served"
		if [ -n "$r_users" ]; then
			catalog="$r_users/$r_groups/$r_memberships"
		fi
		verdict=pass
		if [ "$mode" != normal ]; then
			if [ "$r_inflated" = 1 ] || ! awk -v r="$ratio" 'BEGIN { exit !(r < 2) }'; then
				verdict=FAIL
				failures=$((failures + 1))
			fi
		fi
		err=${r_error:0:150}
		printf '{"mode":"%s","outcome":"%s","seconds":%d,"error":"%s","servedUsers":%s,"servedGroups":%s,"servedMemberships":%s,"entitiesStatus":"%s","inflatedOrPartial":%s,"fakeCalls":%s,"peakRSSMiB":%s,"ofNormal":%s,"verdict":"%s"}\n' \
			"$mode" "$r_outcome" "$r_seconds" "${err//\"/\\\"}" "${r_users:-null}" "${r_groups:-null}" "${r_memberships:-null}" \
			"$r_entities" "$([ "$r_inflated" = 1 ] && echo true || echo false)" "${r_calls:-null}" "$(mib "$r_hwm")" "$ratio" "$verdict"
		rows+=("| $mode | $r_outcome | $catalog | $r_entities | ${r_calls:-?} | $(mib "$r_hwm") | $ratio | $verdict | ${err//|/\\|} |")
	done

	echo
	echo "| mode | sync | catalog served (users/groups/memberships) | GET /entities | fake calls | peak RSS MiB | of normal | verdict | error |"
	echo "|---|---|---|---|---|---|---|---|---|"
	printf '%s\n' "${rows[@]}"
	[ "$failures" -eq 0 ]
}
main "$@"
