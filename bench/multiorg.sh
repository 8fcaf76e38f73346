#!/usr/bin/env bash
# Two Okta orgs in one service, one of them down for a minute: the service
# (cmd/okta-entity-provider, with a config file listing the orgs acme and
# globex) against two cmd/fake-okta orgs of SIZE each. Once it serves both,
# acme's fake answers every API request 503 for DOWN seconds while a user is
# added to globex every EVERY seconds.
#
# It prints one line per change: when it was made (seconds since acme went
# down), how long until GET /entities served it, how many of acme's entities
# were served at that moment (of how many before acme went down), and acme's
# failed syncs in a row on /status. Then a user is added to acme once it is
# back, and the figures:
#
#   changes    globex changes made while acme was down, and how many reached
#              /entities within TIMEOUT seconds
#   latency    median and max seconds from a globex change to /entities
#   acme kept  the fewest of acme's entities /entities served while it was
#              down (polled every 0.2 s), against the count before: the
#              target is all of them, every time
#   answers    /entities answers during the outage that were not 200 with
#              both orgs' entities (the target is 0: never an empty 200)
#   recovery   seconds from acme's return to its new user on /entities
#
# The script exits 1 when a change missed TIMEOUT, acme lost an entity, an
# answer was empty or not 200, or acme's change did not arrive.
#
# Usage: bench/multiorg.sh [users:groups:memberships-per-user]
#   default: 2000:200:3 (each org)
# Environment: DOWN (60: seconds acme is down), EVERY (10: seconds between
# globex changes), SYNC_INTERVAL (2s), TIMEOUT (30), LATENCY (0s: the fakes'
# delay per response), RATE_WINDOW (1m), OUT (a temp dir, kept, with the
# logs and changes.tsv). Needs curl and jq.
#
# One function, main, read whole before it runs (see bench/lib.sh).
main() {
	. "$(dirname "$0")/lib.sh"
	begin "${1:-2000:200:3}" DOWN=60 EVERY=10 SYNC_INTERVAL=2s TIMEOUT=30 LATENCY=0s RATE_WINDOW=1m
	needs curl jq go awk

	fake_pid= fake2_pid= svc_pid=
	cleanup() { stop_all $svc_pid $fake_pid $fake2_pid; }
	trap cleanup EXIT
	LOG_WAIT=300 # a fake generates its org before it listens

	build

	start_fake
	acme=$fake
	"$OUT/fake-okta" -addr 127.0.0.1:0 -users "$users" -groups "$groups" -memberships "$per" -seed 2 \
		-latency "$LATENCY" -concurrency 75 -rate-window "$RATE_WINDOW" -tokens globex-token \
		-rate-users 600 -rate-groups 500 -rate-logs 120 -rate-other 1200 >"$OUT/fake2.log" 2>&1 &
	fake2_pid=$!
	globex=$(wait_log "$OUT/fake2.log" 'listening on http://[^ ]*')
	globex=${globex#listening on }

	cat >"$OUT/orgs.yaml" <<-YAML
		orgs:
		  - name: acme
		    url: $acme
		    tokenEnv: ACME_OKTA_TOKEN
		  - name: globex
		    url: $globex
		    tokenEnv: GLOBEX_OKTA_TOKEN
		    namePrefix: globex-
	YAML
	mkdir -p "$OUT/data"
	env -i PATH="$PATH" HOME="${HOME:-/tmp}" CONFIG_FILE="$OUT/orgs.yaml" DATA_DIR="$OUT/data" \
		ACME_OKTA_TOKEN=demo-token GLOBEX_OKTA_TOKEN=globex-token \
		LISTEN_ADDR=127.0.0.1:0 SYNC_INTERVAL="$SYNC_INTERVAL" LOG_FORMAT=json LOG_LEVEL=info \
		"$OUT/okta-entity-provider" >"$OUT/service.log" 2>&1 &
	svc_pid=$!
	addr=$(jstr "$(wait_log "$OUT/service.log" '.*"message":"listening".*')" addr)
	[ -n "$addr" ] || die "no listen address in $OUT/service.log"
	svc="http://$addr"
	wait_ready "$svc" 300

	# served: "org id" for every entity /entities serves, then a line
	# "status CODE"; in $OUT/served.
	served() {
		local code
		code=$(curl -s -o "$OUT/entities.yaml" -w '%{http_code}' "$svc/entities" || echo 000)
		awk '/^---/ { if (id != "") print org, id; id = ""; org = "" }
			/^    okta.com\/id: / { id = $2; gsub(/"/, "", id) }
			/^    okta.com\/org: / { org = $2 }
			END { if (id != "") print org, id }' "$OUT/entities.yaml" >"$OUT/served"
		echo "status $code" >>"$OUT/served"
	}
	count() { grep -c "^$1 " "$OUT/served" || true; }

	served
	acme_before=$(count acme)
	globex_before=$(count globex)
	[ "$acme_before" -gt 0 ] && [ "$globex_before" -gt 0 ] || die "the service serves $acme_before acme and $globex_before globex entities, want both"
	echo "# commit $commit; each org $users users, $groups groups, $per memberships per user; serving $acme_before acme and" \
		"$globex_before globex entities; acme down ${DOWN}s, a globex user added every ${EVERY}s; sync every $SYNC_INTERVAL; out $OUT"

	curl -fsS -X POST -H 'Content-Type: application/json' -d '{"down":true}' "$acme/_fake/faults" >/dev/null
	down_at=$SECONDS
	acme_min=$acme_before bad_answers=0 made=0 arrived=0
	printf 'change\tat\tlatency\tacme_served\tacme_failures\n' | tee "$OUT/changes.tsv"
	while [ $((SECONDS - down_at)) -lt "$DOWN" ]; do
		made=$((made + 1))
		at=$((SECONDS - down_at))
		id=$(curl -fsS -X POST -H 'Content-Type: application/json' \
			-d "{\"profile\":{\"login\":\"bench.user$made@globex.example.com\",\"email\":\"bench.user$made@globex.example.com\",\"firstName\":\"Bench\",\"lastName\":\"User $made\"}}" \
			"$globex/_fake/users" | jq -r .id)
		start=$(date +%s.%N) latency=missed
		deadline=$((SECONDS + TIMEOUT))
		while [ $SECONDS -lt $deadline ]; do
			served
			n=$(count acme)
			[ "$n" -ge "$acme_min" ] || acme_min=$n
			if ! grep -qx 'status 200' "$OUT/served" || [ "$(count globex)" -eq 0 ]; then
				bad_answers=$((bad_answers + 1))
			fi
			if grep -qx "globex $id" "$OUT/served"; then
				latency=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
				arrived=$((arrived + 1))
				break
			fi
			sleep 0.2
		done
		failures=$(curl -fsS "$svc/status" | jq '.orgs[] | select(.name == "acme") | .failuresInARow')
		printf '%s\t%s\t%s\t%s\t%s\n' "$made" "$at" "$latency" "$n" "$failures" | tee -a "$OUT/changes.tsv"
		rest=$((EVERY - (SECONDS - down_at - at)))
		[ "$rest" -le 0 ] || sleep "$rest"
	done

	curl -fsS -X POST -H 'Content-Type: application/json' -d '{}' "$acme/_fake/faults" >/dev/null
	back_at=$(date +%s.%N)
	id=$(curl -fsS -X POST -H 'Content-Type: application/json' \
		-d '{"profile":{"login":"bench.back@acme.example.com","email":"bench.back@acme.example.com","firstName":"Bench","lastName":"Back"}}' \
		"$acme/_fake/users" | jq -r .id)
	recovery=missed
	deadline=$((SECONDS + TIMEOUT))
	while [ $SECONDS -lt $deadline ]; do
		served
		if grep -qx "acme $id" "$OUT/served"; then
			recovery=$(awk -v a="$back_at" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
			break
		fi
		sleep 0.2
	done

	lat=$(awk -F'\t' 'NR > 1 && $3 != "missed" { print $3 }' "$OUT/changes.tsv" | sort -n)
	median=$(awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }' <<<"$lat")
	max=$(tail -n 1 <<<"$lat")
	echo
	printf '%-10s %s\n' changes "$made made while acme was down, $arrived reached /entities within ${TIMEOUT}s" \
		latency "median ${median}s, max ${max:--}s" \
		"acme kept" "at least $acme_min of its $acme_before entities on every answer" \
		answers "$bad_answers not 200 with both orgs' entities" \
		recovery "${recovery}s from acme's return to its new user on /entities"
	ok=1
	[ "$arrived" -eq "$made" ] || ok=0
	[ "$acme_min" -eq "$acme_before" ] || ok=0
	[ "$bad_answers" -eq 0 ] || ok=0
	[ "$recovery" != missed ] || ok=0
	if [ "$ok" = 1 ]; then echo "PASS"; else echo "FAIL"; exit 1; fi
}
main "$@"
