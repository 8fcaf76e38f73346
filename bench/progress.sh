#!/usr/bin/env bash
# How well /status's progress tells an operator how far the first sync is:
# cmd/okta-entity-provider's first (full) sync against cmd/fake-okta with
# Okta's default per-minute limits (users 600, groups 500, logs 120, other
# 1200, 75 concurrent, 60 s windows), sampled on /status every INTERVAL
# seconds until the sync has finished.
#
# It prints one line per sample (the service's elapsed seconds, phase,
# percent of the calls done, calls made and left, member listings done,
# seconds paced, and the ETA in seconds) and then the figures:
#
#   monotonic     whether percent, calls made and listings done never went
#                 back between samples (each "yes" or the first regression)
#   at25          the first sample at 25 % done or more: its elapsed seconds
#                 and its ETA
#   actual        the seconds from that sample until the sync's Okta calls
#                 were done (the first sample in phase build, or the sync's
#                 finishedAt when it was never sampled in that phase)
#   error         |ETA − actual| / actual, in percent: the target is <= 30
#
# The script exits 1 when progress went back or the error is over 30 %.
#
# Usage: bench/progress.sh [users:groups:memberships-per-user]
#   default: 20000:2000:10
# Environment: INTERVAL (2: seconds between samples), LATENCY (50ms: the
# fake's delay per response), RATE_WINDOW (1m: the fake's window; Okta's
# is a minute), WAIT (1800: seconds the sync may take), OUT (a temp dir,
# kept, with the logs and samples.tsv). Needs curl and jq.
#
# One function, main, read whole before it runs (see bench/lib.sh).
main() {
	. "$(dirname "$0")/lib.sh"
	begin "${1:-20000:2000:10}" INTERVAL=2 LATENCY=50ms RATE_WINDOW=1m WAIT=1800
	needs curl jq go

	fake_pid= svc_pid=
	cleanup() { stop_all $svc_pid $fake_pid; }
	trap cleanup EXIT
	LOG_WAIT=600 # the fake generates its org before it listens

	build

	start_fake
	memberships=$(wait_log "$OUT/fake.log" '[0-9]+ memberships')

	env -i PATH="$PATH" HOME="${HOME:-/tmp}" OKTA_ORG_URL="$fake" OKTA_TOKEN=demo-token \
		LISTEN_ADDR=127.0.0.1:0 SYNC_INTERVAL=1h LOG_FORMAT=json LOG_LEVEL=info \
		"$OUT/okta-entity-provider" >"$OUT/service.log" 2>&1 &
	svc_pid=$!
	addr=$(jstr "$(wait_log "$OUT/service.log" '.*"message":"listening".*')" addr)
	[ -n "$addr" ] || die "no listen address in $OUT/service.log"
	svc="http://$addr"
	echo "# commit $commit, $users users, $groups groups, ${memberships% *} memberships; latency $LATENCY," \
		"window $RATE_WINDOW, Okta's default limits; sampled every ${INTERVAL}s; out $OUT"

	printf 'elapsed\tphase\tpercent\tcalls\tleft\tlistings\tpaced\teta\n' | tee "$OUT/samples.tsv"
	deadline=$((SECONDS + WAIT))
	while :; do
		st=$(curl -fsS "$svc/status" || true)
		if [ -n "$st" ] && [ "$(jq -r '.lastSync != null' <<<"$st")" = true ]; then
			break
		fi
		if [ -n "$st" ] && [ "$(jq -r '.progress != null' <<<"$st")" = true ]; then
			jq -r '.progress | [(.elapsedSeconds * 10 | round / 10), .phase, (.percent // "-"), .oktaCalls,
				(.callsRemaining // "-"), "\(.listingsDone)/\(.listingsTotal)", (.pacedSeconds | round),
				((.etaSeconds // null) | if . == null then "-" else (. * 10 | round / 10) end)] | @tsv' <<<"$st" |
				tee -a "$OUT/samples.tsv"
		fi
		[ $SECONDS -lt $deadline ] || die "the first sync did not finish within WAIT=${WAIT}s"
		sleep "$INTERVAL"
	done
	outcome=$(jq -r .lastSync.outcome <<<"$st")
	[ "$outcome" = ok ] || die "the first sync's outcome: $outcome ($(jq -r .lastSync.error <<<"$st"))"
	took=$(jq -r .lastSync.durationSeconds <<<"$st")
	calls=$(jq -r .lastSync.oktaCalls <<<"$st")

	awk -F'\t' -v took="$took" -v calls="$calls" '
		NR == 1 { next }
		{
			t = $1; pct = $3; done_ = $4; split($6, l, "/")
			if (pct != "-" && lastpct != "" && pct + 0 < lastpct + 0 && mono_pct == "") mono_pct = "back at " t "s: " lastpct " -> " pct
			if (done_ + 0 < lastcalls + 0 && mono_calls == "") mono_calls = "back at " t "s"
			if (l[1] + 0 < lastl + 0 && mono_l == "") mono_l = "back at " t "s"
			if (pct != "-") lastpct = pct
			lastcalls = done_; lastl = l[1]
			if (at == "" && pct != "-" && pct + 0 >= 25) { at = t; eta = $8; atpct = pct }
			if (callsdone == "" && $2 == "build") callsdone = t
		}
		END {
			if (callsdone == "") callsdone = took
			printf "# sync: %.1f s, %d Okta calls (Okta calls done at %.1f s)\n", took, calls, callsdone
			printf "# monotonic: percent %s, calls %s, listings %s\n", mono_pct == "" ? "yes" : mono_pct,
				mono_calls == "" ? "yes" : mono_calls, mono_l == "" ? "yes" : mono_l
			if (at == "") { print "# FAIL: no sample at 25 % done or more"; exit 1 }
			actual = callsdone - at
			err = (eta - actual) / actual * 100; if (err < 0) err = -err
			printf "# at25: sample at %.1f s (%s %% done), ETA %.1f s\n", at, atpct, eta
			printf "# actual: %.1f s from that sample; error %.1f %% (target <= 30 %%)\n", actual, err
			if (mono_pct != "" || mono_calls != "" || mono_l != "" || err > 30) { print "# FAIL"; exit 1 }
		}' "$OUT/samples.tsv"
}

main "$@"
