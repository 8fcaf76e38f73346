#!/usr/bin/env bash
# container-smoke.sh builds the project's Dockerfile with podman and runs the
# image in demo mode, with no container registry reachable.
#
# No base image can be pulled, so it first builds local stand-ins under the
# exact tags the Dockerfile's FROM lines name: a Go toolchain image made from
# the local Go installation and a minimal static runtime (/etc/passwd with the
# nonroot user, CA certificates, /tmp). Then it builds the real Dockerfile with
# --pull=never and no network, checks the image configuration (numeric
# non-root USER, exec-form ENTRYPOINT, EXPOSE, HEALTHCHECK), runs the image in
# demo mode on a loopback-only port and checks /readyz, /entities
# (multi-document YAML with User and Group entities, ETag and 304), the
# HEALTHCHECK run in the container, the process's uid, the data directory,
# the binary's build settings and a clean stop on SIGTERM. Each check prints a
# PASS or FAIL line; the last line is "N passed, M failed", and the exit
# status is non-zero when anything failed.
#
# The Dockerfile itself is used unchanged. Its build stage downloads modules
# with `go mod download` as it would anywhere; here GOPROXY (a build argument
# the Dockerfile declares, unset by default) points at the local module
# download cache, mounted read-only into the build.
#
# Everything podman keeps (images, containers, layers, its run-time state and
# locks) lives in a temporary directory with its own containers.conf and
# storage.conf, so the machine's own podman configuration, images and
# containers are neither used nor changed. It is removed on exit;
# SMOKE_KEEP=1 keeps it for a look.
#
# Every wait is bounded: podman and apt-get commands run under timeout(1) and
# polling loops stop after a fixed number of tries and a deadline. The whole
# run takes one and a half to three minutes on two cores, most of it
# compiling inside the build.
#
# Runs as root (rootful podman). Installs podman and runc from the
# distribution's packages with apt-get when they are missing.
#
# Usage: scripts/container-smoke.sh
set -Eeuo pipefail

root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
dockerfile=$root/Dockerfile
image=localhost/okta-entity-provider:smoke
ctr=okta-entity-provider-smoke-$$
start=$SECONDS
passed=0
failed=0
work=

log() { printf '[%3ds] %s\n' $((SECONDS - start)) "$*"; }
pass() {
	printf 'PASS: %s\n' "$*"
	passed=$((passed + 1))
}
fail() {
	if [[ $BASHPID != "$$" ]]; then
		printf 'FAIL: %s\n' "$*" >&2
	else
		printf 'FAIL: %s\n' "$*"
	fi
	failed=$((failed + 1))
}

# finish cleans up, prints the summary as the last line and exits; non-zero
# when anything failed.
finish() {
	trap - ERR
	set +eE
	# In a subshell (a command substitution) only that subshell ends: the
	# main script sees it fail and reports it.
	if [[ $BASHPID != "$$" ]]; then
		exit 1
	fi
	cleanup_work
	log "done"
	printf '%d passed, %d failed\n' "$passed" "$failed"
	if ((failed > 0)); then
		exit 1
	fi
	exit 0
}

# abort records a failure the rest cannot run without, and stops.
abort() {
	fail "$*"
	finish
}

# isolated says whether podman is pointed at this run's own storage, so
# that --all in the cleanup can only ever mean this run's containers and
# images.
isolated() {
	[[ -n $work && ${CONTAINERS_STORAGE_CONF:-} == "$work/storage.conf" && -f $work/storage.conf &&
		${CONTAINERS_CONF:-} == "$work/containers.conf" && -f $work/containers.conf ]]
}

# kill_work_procs kills whatever still runs with its root file system in
# the work directory: only this run's containers can.
kill_work_procs() {
	local pass p r
	for pass in 1 2 3; do
		for p in /proc/[0-9]*; do
			r=$(readlink "$p/root" 2>/dev/null) || continue
			if [[ $r == "$work/"* ]]; then
				kill -KILL "${p#/proc/}" 2>/dev/null
			fi
		done
		sleep 0.2
	done
}

# cleanup_work removes this run's containers and work directory; it runs
# once, from finish or, on an early exit, from the EXIT trap.
cleanup_work() {
	if [[ -n $work && -d $work ]]; then
		if [[ ${SMOKE_KEEP:-} == 1 ]]; then
			log "kept $work (CONTAINERS_CONF=$work/containers.conf CONTAINERS_STORAGE_CONF=$work/storage.conf)"
		else
			local t=$SECONDS
			# Stop and remove this run's containers (their conmon
			# processes and network set-up with them); the images go
			# with the directory.
			if isolated && command -v podman >/dev/null 2>&1; then
				timeout 60 podman rm --force --time 0 --all >/dev/null 2>&1
				# A build cut short leaves its working container.
				timeout 30 podman ps --all --external --quiet 2>/dev/null |
					xargs -r timeout 60 podman rm --force --time 0 >/dev/null 2>&1
			fi
			# A build cut short (timeout, signal) can leave its RUN
			# step's processes running in a root under the storage.
			kill_work_procs
			# Overlay layers still mounted under the storage root (the
			# build's, the storage root itself) would make rm fail;
			# unmount whatever is left, deepest first.
			findmnt -rn -o TARGET | grep -F "$work/" | sort -r | xargs -r -n1 umount -l 2>/dev/null
			rm -rf -- "$work"
			if [[ -e $work ]]; then
				log "cleanup: could not remove $work"
			else
				log "cleaned up in $((SECONDS - t))s"
			fi
		fi
	fi
	work=
}

cleanup() {
	local rc=$?
	set +eE
	trap - ERR
	cleanup_work
	exit "$rc"
}
trap cleanup EXIT
# A command failing where no check expects it still ends with a FAIL line
# and the summary (errtrace, set -E, extends this into functions).
trap 'abort "unexpected error at line $LINENO: $BASH_COMMAND (exit $?)"' ERR
# Interrupted or killed: the same, and the EXIT trap still cleans up.
trap 'on_signal "interrupted by SIGINT"' INT
trap 'on_signal "terminated by SIGTERM"' TERM
trap 'on_signal "hung up (SIGHUP)"' HUP

# bounded SECS LOG CMD... runs a long command under timeout(1) in the
# background, its output to LOG, and waits for it, so that a signal to the
# script is handled at once (bash runs traps only between foreground
# commands) and passed on to the command.
bg_pid=
bounded() {
	local secs=$1 out=$2 rc=0
	shift 2
	timeout "$secs" "$@" >"$out" 2>&1 </dev/null &
	bg_pid=$!
	wait "$bg_pid" || rc=$?
	bg_pid=
	return "$rc"
}

on_signal() {
	trap - ERR INT TERM HUP
	set +eE
	if [[ -n $bg_pid ]]; then
		kill -TERM "$bg_pid" 2>/dev/null
		local i
		for i in $(seq 1 30); do
			kill -0 "$bg_pid" 2>/dev/null || break
			sleep 1
		done
		kill -KILL "$bg_pid" 2>/dev/null
	fi
	abort "$1"
}

# ---- tools -----------------------------------------------------------------

install_tools() {
	local missing=() cmd
	for cmd in podman runc curl tar findmnt; do
		command -v "$cmd" >/dev/null 2>&1 || missing+=("$cmd")
	done
	[[ -r /etc/ssl/certs/ca-certificates.crt ]] || missing+=(ca-certificates)
	((${#missing[@]} == 0)) && return 0

	local pkgs=() m
	for m in "${missing[@]}"; do
		case $m in
		findmnt) pkgs+=(util-linux) ;;
		*) pkgs+=("$m") ;;
		esac
	done
	if ((EUID != 0)) || ! command -v apt-get >/dev/null 2>&1; then
		abort "missing ${missing[*]}: install them (as root, with apt-get: ${pkgs[*]})"
	fi
	log "installing ${pkgs[*]} with apt-get"
	export DEBIAN_FRONTEND=noninteractive
	# Wait (bounded) for another apt-get or dpkg holding the locks rather
	# than failing at once.
	local apt_opts=(-o DPkg::Lock::Timeout=180 -o Acquire::Retries=3 -o Dpkg::Use-Pty=0)
	if ! timeout 300 apt-get "${apt_opts[@]}" update -qq >"$apt_log" 2>&1; then
		tail -n 20 "$apt_log"
		abort "apt-get update failed (output above): cannot install ${pkgs[*]}"
	fi
	if ! timeout 600 apt-get "${apt_opts[@]}" install -y -qq --no-install-recommends "${pkgs[@]}" >>"$apt_log" 2>&1 </dev/null; then
		tail -n 20 "$apt_log"
		abort "apt-get install ${pkgs[*]} failed (output above)"
	fi
	for cmd in "${missing[@]}"; do
		[[ $cmd == ca-certificates ]] && continue
		command -v "$cmd" >/dev/null 2>&1 || abort "$cmd is still missing after apt-get install ${pkgs[*]}"
	done
}

if ((EUID != 0)); then
	abort "run as root: the smoke test uses rootful podman"
fi
# The Go installation the stand-in is made from: the go on PATH, else the
# usual /usr/local/go.
if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
	PATH=/usr/local/go/bin:$PATH
fi
command -v go >/dev/null 2>&1 || abort "go not found: the Go stand-in image is made from the local Go installation"

work=$(mktemp -d "${TMPDIR:-/tmp}/container-smoke.XXXXXX")
apt_log=$work/apt.log
install_tools
log "podman $(podman --version | awk '{print $3}'), $(runc --version | head -n1), $(go env GOVERSION)"

# Podman configuration for this run only. runc and cgroupfs because no
# systemd runs here; the default ulimits because the inherited hard limits can
# be lower than podman's defaults, which makes runc refuse to start
# containers; the file events logger because there is no journald. tmp_dir
# and file locks keep podman's run-time state and locks in the work
# directory too: the defaults (a directory under /run and a shared-memory
# segment) are shared with any other podman on the machine, and a fresh
# database resetting them could disturb it.
write_conf() {
	local driver=$1
	cat >"$work/containers.conf" <<-EOF
		[containers]
		default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

		[engine]
		runtime = "runc"
		cgroup_manager = "cgroupfs"
		events_logger = "file"
		lock_type = "file"
		tmp_dir = "$work/libpod"
	EOF
	cat >"$work/storage.conf" <<-EOF
		[storage]
		driver = "$driver"
		graphroot = "$work/storage"
		runroot = "$work/run"
	EOF
}
write_conf overlay
# Short names (golang:1.26-bookworm) resolve to docker.io, as Docker does;
# with --pull=never this only names local images.
cat >"$work/registries.conf" <<'EOF'
unqualified-search-registries = ["docker.io"]
short-name-mode = "permissive"
EOF
export CONTAINERS_CONF=$work/containers.conf
export CONTAINERS_STORAGE_CONF=$work/storage.conf
export CONTAINERS_REGISTRIES_CONF=$work/registries.conf

# Overlay storage needs a file system that can hold overlay layers (not,
# for one, an overlay root file system); fall back to the slower vfs driver.
if ! timeout 60 podman info >"$work/info.log" 2>&1; then
	log "overlay storage unavailable here ($(tail -n1 "$work/info.log" | cut -c1-160)); using vfs"
	rm -rf -- "$work/storage" "$work/run" "$work/libpod"
	write_conf vfs
	if ! timeout 60 podman info >"$work/info.log" 2>&1; then
		tail -n 20 "$work/info.log"
		abort "podman does not work with this configuration (podman info output above)"
	fi
fi
log "podman storage: $(podman info --format '{{.Store.GraphDriverName}}') under $work, runtime $(podman info --format '{{.Host.OCIRuntime.Name}}'), cgroups $(podman info --format '{{.Host.CgroupManager}}')"

# ---- stand-in base images --------------------------------------------------

# qualify turns a Docker-style reference into the full name podman stores it
# under: golang:1.26 -> docker.io/library/golang:1.26.
qualify() {
	local ref=$1 first=${1%%/*}
	if [[ $ref != */* ]]; then
		ref=docker.io/library/$ref
	elif [[ $first != *.* && $first != *:* && $first != localhost ]]; then
		ref=docker.io/$ref
	fi
	printf '%s\n' "$ref"
}

# copy_with_libs copies a host program and the shared libraries it loads into
# the root file system $1, under the same paths.
copy_with_libs() {
	local dest=$1 bin=$2 lib
	bin=$(type -P "$bin") || abort "$2 not found on this machine"
	mkdir -p "$dest/bin"
	cp -L "$bin" "$dest/bin/"
	for lib in $(ldd "$bin" 2>/dev/null | grep -o '/[^ ]*' || true); do
		[[ -e $dest$lib ]] || cp -L --parents "$lib" "$dest"
	done
}

# make_go_image builds the Go toolchain stand-in: the local GOROOT at
# /usr/local/go on a root file system with a shell and the few programs a
# Dockerfile's RUN lines use, laid out like the official golang image
# (GOPATH=/go, GOTOOLCHAIN=local, WORKDIR /go).
make_go_image() {
	local tag=$1 fs=$work/rootfs-go goroot goversion want prog
	goroot=$(go env GOROOT)
	goversion=$(go env GOVERSION)
	# The tag's version (golang:1.26-bookworm -> 1.26) must be the local Go's.
	want=$(sed -nE 's/^[^:]*golang:([0-9]+\.[0-9]+(\.[0-9]+)?).*$/\1/p' <<<"$tag")
	if [[ -z $want ]]; then
		abort "cannot read a Go version from the tag $tag"
	fi
	if [[ $goversion != "go$want" && $goversion != go"$want".* ]]; then
		abort "local Go is $goversion but the Dockerfile builds with $tag: install Go $want to run this check"
	fi

	mkdir -p "$fs"/{etc/ssl/certs,tmp,root,go/bin,go/src,usr/local}
	chmod 1777 "$fs/tmp" "$fs/go"
	chmod 700 "$fs/root"
	printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$fs/etc/passwd"
	printf 'root:x:0:\nnogroup:x:65534:\n' >"$fs/etc/group"
	printf 'hosts: files dns\n' >"$fs/etc/nsswitch.conf"
	cp /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
	for prog in sh mkdir cp mv rm ls cat ln chmod chown touch env true false id uname; do
		copy_with_libs "$fs" "$prog"
	done
	# One tar stream: the root file system, then GOROOT renamed to
	# usr/local/go (its tests and docs left out: go build reads neither).
	local gobase
	gobase=$(basename "$goroot")
	tar --numeric-owner -cf - -C "$fs" . \
		-C "$(dirname "$goroot")" \
		--anchored --exclude="$gobase/test" --exclude="$gobase/doc" --exclude="$gobase/api" --exclude="$gobase/misc" --no-anchored \
		--transform="s,^$gobase\(/\|\$\),usr/local/go\1," "$gobase" | timeout 300 podman import \
		--change "ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
		--change "ENV GOLANG_VERSION=${goversion#go}" \
		--change "ENV GOPATH=/go" \
		--change "ENV GOTOOLCHAIN=local" \
		--change "ENV HOME=/root" \
		--change "WORKDIR /go" \
		--message "stand-in for $tag from the local $goversion" \
		- "$(qualify "$tag")" >"$work/import.log" 2>&1 || {
		tail -n 20 "$work/import.log"
		abort "podman import of the Go stand-in $tag failed (output above)"
	}
	rm -rf "$fs"
}

# make_static_image builds the distroless-static stand-in: no shell, just
# /etc/passwd and /etc/group with root, nobody and nonroot (65532), CA
# certificates, time zones, /tmp and /home/nonroot. A :nonroot tag runs as
# 65532 like the real one.
make_static_image() {
	local tag=$1 fs=$work/rootfs-static changes=()
	mkdir -p "$fs"/{etc/ssl/certs,tmp,root,home/nonroot,usr/share}
	chmod 1777 "$fs/tmp"
	chmod 700 "$fs/root" "$fs/home/nonroot"
	chown 65532:65532 "$fs/home/nonroot"
	cat >"$fs/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
	printf 'root:x:0:\nnobody:x:65534:\ntty:x:5:\nstaff:x:50:\nnonroot:x:65532:\n' >"$fs/etc/group"
	printf 'hosts: files dns\n' >"$fs/etc/nsswitch.conf"
	cp /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
	if [[ -d /usr/share/zoneinfo ]]; then
		cp -a /usr/share/zoneinfo "$fs/usr/share/"
	fi
	if [[ $tag == *nonroot* ]]; then
		changes=(--change "USER 65532" --change "WORKDIR /home/nonroot")
	fi
	tar -C "$fs" --numeric-owner -cf - . | timeout 300 podman import "${changes[@]}" \
		--change "ENV PATH=/usr/local/bin:/usr/local/sbin:/usr/sbin:/usr/bin:/sbin:/bin" \
		--message "stand-in for $tag" \
		- "$(qualify "$tag")" >"$work/import.log" 2>&1 || {
		tail -n 20 "$work/import.log"
		abort "podman import of the runtime stand-in $tag failed (output above)"
	}
	rm -rf "$fs"
}

# The base images, read from the Dockerfile's FROM lines (skipping
# --platform flags and references to earlier stages).
mapfile -t bases < <(awk '
	toupper($1) == "FROM" {
		i = 2
		while ($i ~ /^--/) i++
		ref = $i
		if (tolower($(i+1)) == "as") stages[tolower($(i+2))] = 1
		if (!(tolower(ref) in stages) && tolower(ref) != "scratch") print ref
	}' "$dockerfile")
((${#bases[@]} > 0)) || abort "no base images found in $dockerfile"

for base in "${bases[@]}"; do
	case ${base##*/} in
	golang:*) make_go_image "$base" ;;
	*) make_static_image "$base" ;;
	esac
	if podman image exists "$(qualify "$base")"; then
		pass "stand-in base image $base built ($(podman image inspect --format '{{.Size}}' "$(qualify "$base")" | awk '{printf "%.0f MB", $1/1e6}'))"
	else
		abort "stand-in base image $base was not created"
	fi
done
log "stand-ins ready"

# ---- build -----------------------------------------------------------------

# The build stage's `go mod download` reads modules from the local download
# cache through a file:// GOPROXY. Make sure the cache holds every module the
# build needs first (this one step may use the Go module proxy).
modcache=$(go env GOMODCACHE)
if ! (cd "$root" && timeout 300 go mod download) >"$work/mod.log" 2>&1; then
	tail -n 20 "$work/mod.log"
	abort "go mod download on the host failed (output above): the build's module cache cannot be filled"
fi
[[ -d $modcache/cache/download ]] || abort "no module download cache at $modcache/cache/download after go mod download"

version=smoke-$(git -C "$root" rev-parse --short HEAD 2>/dev/null || echo none)
revision=$(git -C "$root" rev-parse HEAD 2>/dev/null || echo unknown)
build_start=$SECONDS
# --format docker keeps HEALTHCHECK (the OCI format has no field for it);
# --network none proves the build needs nothing from outside.
if bounded 480 "$work/build.log" podman build --pull=never --format docker --network none \
	--volume "$modcache/cache/download:/goproxy:ro" \
	--build-arg GOPROXY=file:///goproxy \
	--build-arg VERSION="$version" \
	--build-arg REVISION="$revision" \
	--file "$dockerfile" --tag "$image" "$root"; then
	pass "podman build of the Dockerfile (--pull=never, no network, modules from a file:// GOPROXY) in $((SECONDS - build_start))s"
else
	rc=$?
	tail -n 40 "$work/build.log"
	if ((rc == 124)); then
		abort "podman build of the Dockerfile did not finish within 480s (log above)"
	elif grep -q 'go build' "$work/build.log" && grep -qE '\.go:[0-9]+:[0-9]+: ' "$work/build.log"; then
		abort "podman build of the Dockerfile failed: the Go code does not compile (errors above)"
	fi
	abort "podman build of the Dockerfile failed (log above)"
fi

# ---- image configuration ---------------------------------------------------

inspect() { timeout 20 podman image inspect --format "$1" "$image"; }

size=$(inspect '{{.Size}}')
log "image $image: $((size / 1000000)) MB, $(inspect '{{len .RootFS.Layers}}') layers"

user=$(inspect '{{.Config.User}}')
if [[ $user =~ ^([0-9]+)(:[0-9]+)?$ ]] && ((BASH_REMATCH[1] != 0)); then
	pass "image USER is numeric and not root ($user)"
else
	fail "image USER is $user, want a numeric non-root uid"
fi

# expect_image TEMPLATE is|has|starts WANT WHAT: the image's field at
# TEMPLATE is WANT, holds it, or starts with it.
expect_image() {
	local got ok= want
	got=$(inspect "$1")
	case $2 in
	is) want="be $3" && [[ $got == "$3" ]] && ok=1 ;;
	has) want="contain $3" && [[ $got == *"$3"* ]] && ok=1 ;;
	starts) want="start with $3" && [[ $got == "$3"* ]] && ok=1 ;;
	esac
	if [[ -n $ok ]]; then
		pass "$4: $got"
	else
		fail "$4: got $got, want it to $want"
	fi
}

expect_image '{{json .Config.Entrypoint}}' is '["/okta-entity-provider"]' "exec-form ENTRYPOINT"
expect_image '{{json .Config.ExposedPorts}}' has '"8080/tcp"' "EXPOSE 8080"
expect_image '{{json .Config.Healthcheck.Test}}' starts '["CMD","/okta-entity-provider","healthcheck"' "HEALTHCHECK runs the binary without a shell"
# The HEALTHCHECK's timings (Go durations such as 30s), all set explicitly.
hc_timing=$(inspect '{{.Config.Healthcheck.Interval}} {{.Config.Healthcheck.Timeout}} {{.Config.Healthcheck.StartPeriod}} {{.Config.Healthcheck.Retries}}')
read -r hc_interval hc_timeout hc_start hc_retries <<<"$hc_timing"
duration='^[0-9.]+(ns|us|µs|ms|s|m|h)([0-9.]+(ns|us|µs|ms|s|m|h))*$'
if [[ $hc_interval =~ $duration && $hc_interval != 0s && $hc_timeout =~ $duration && $hc_timeout != 0s &&
	${hc_start:-} =~ $duration && ${hc_retries:-} =~ ^[1-9][0-9]*$ ]]; then
	pass "HEALTHCHECK timings set: interval $hc_interval, timeout $hc_timeout, start period $hc_start, $hc_retries retries"
else
	fail "HEALTHCHECK timings incomplete (interval, timeout, start period, retries: $hc_timing)"
fi

expect_image '{{json .Config.Env}}' has '"DATA_DIR=/data"' "DATA_DIR=/data in the image environment"
expect_image '{{index .Config.Labels "org.opencontainers.image.version"}}' is "$version" "OCI version label is the build's VERSION"

# -version names the build's version and commit: the image has no
# repository for Go to read the commit from, so the Dockerfile links it in.
version_line=$(timeout 60 podman run --rm --pull=never --network none --health-interval disable \
	--entrypoint /okta-entity-provider "$image" -version 2>"$work/version.err" || true)
if [[ $version_line == "okta-entity-provider $version commit $revision"* ]]; then
	pass "-version: $version_line"
else
	fail "-version printed \"$version_line\" ($(tail -n1 "$work/version.err")), want okta-entity-provider $version commit $revision"
fi

# The healthcheck must be able to fail: with no server it exits non-zero.
if timeout 60 podman run --rm --pull=never --network none --health-interval disable --entrypoint /okta-entity-provider \
	"$image" healthcheck >"$work/hc-neg.log" 2>&1; then
	fail "healthcheck with no server running exited 0"
else
	pass "healthcheck with no server running fails ($(tail -n1 "$work/hc-neg.log" | cut -c1-120))"
fi

# ---- run ---------------------------------------------------------------------

# free_port finds an unused loopback port (for host networking).
free_port() {
	local p
	for p in $(seq 18080 18180); do
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			printf '%s\n' "$p"
			return 0
		fi
	done
	return 1
}

# start_container runs the image in demo mode with the given network mode and
# prints the loopback base URL once /readyz answers 200, within 90s.
start_container() {
	local mode=$1 port args=()
	timeout 60 podman rm --force --time 0 "$ctr" >/dev/null 2>&1 || true
	case $mode in
	host)
		port=$(free_port) || return 1
		args=(--network host --env "LISTEN_ADDR=127.0.0.1:$port")
		;;
	bridge) args=(--publish 127.0.0.1::8080) ;;
	*) args=(--network "$mode" --publish 127.0.0.1::8080) ;;
	esac
	# --health-interval disable: no systemd here for podman's healthcheck
	# timer; `podman healthcheck run` below runs the image's check.
	timeout 120 podman run --detach --pull=never --name "$ctr" --health-interval disable \
		"${args[@]}" "$image" >/dev/null 2>"$work/run-$mode.err" || return 1
	if [[ $mode != host ]]; then
		port=$(timeout 20 podman port "$ctr" 8080/tcp | head -n1 | sed 's/.*://')
		[[ -n $port ]] || return 1
	fi
	# At most 120 tries and 90s, whichever comes first.
	local deadline=$((SECONDS + 90)) tries=0 code
	while ((SECONDS < deadline && tries < 120)); do
		tries=$((tries + 1))
		code=$(curl -s -o /dev/null -w '%{http_code}' --connect-timeout 2 --max-time 3 "http://127.0.0.1:$port/readyz" || true)
		if [[ $code == 200 ]]; then
			printf 'http://127.0.0.1:%s\n' "$port"
			return 0
		fi
		[[ $(timeout 20 podman inspect --format '{{.State.Running}}' "$ctr" 2>/dev/null) == true ]] || return 1
		sleep 0.5
	done
	echo "/readyz on port $port did not answer 200 within 90s ($tries tries, last status $code)" >>"$work/run-$mode.err"
	return 1
}

base=
run_start=$SECONDS
for mode in bridge slirp4netns host; do
	if base=$(start_container "$mode"); then
		pass "container ready in $mode network mode: $base/readyz answered 200 after $((SECONDS - run_start))s"
		break
	fi
	log "network mode $mode did not work:"
	tail -n 5 "$work/run-$mode.err" 2>/dev/null || true
	timeout 20 podman logs --tail 20 "$ctr" 2>&1 || true
	base=
done
[[ -n $base ]] || abort "the container never became ready"

if [[ $mode != host ]]; then
	published=$(timeout 20 podman port "$ctr" 8080/tcp)
	if [[ $published == 127.0.0.1:* ]]; then
		pass "port published on loopback only ($published)"
	else
		fail "port published on $published, want 127.0.0.1 only"
	fi
fi

# /entities: multi-document YAML with User and Group entities.
code=$(curl -sS -D "$work/entities.headers" -o "$work/entities.yaml" -w '%{http_code}' --max-time 10 "$base/entities" || true)
docs=$(grep -c '^kind: ' "$work/entities.yaml" || true)
users=$(grep -c '^kind: User$' "$work/entities.yaml" || true)
groups=$(grep -c '^kind: Group$' "$work/entities.yaml" || true)
seps=$(grep -c '^---$' "$work/entities.yaml" || true)
apiv=$(grep -c '^apiVersion: backstage.io/v1alpha1$' "$work/entities.yaml" || true)
if [[ $code == 200 ]] && ((users > 0 && groups > 0 && seps >= docs - 1 && apiv == docs)); then
	pass "/entities: 200, $docs YAML documents ($users User, $groups Group), all backstage.io/v1alpha1"
else
	fail "/entities: status $code, $docs documents ($users User, $groups Group, $seps separators, $apiv with apiVersion backstage.io/v1alpha1)"
	head -n 20 "$work/entities.yaml"
fi

etag=$(sed -n 's/^[Ee][Tt][Aa][Gg]: *//p' "$work/entities.headers" | tr -d '\r')
if [[ -n $etag ]]; then
	code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H "If-None-Match: $etag" "$base/entities" || true)
	if [[ $code == 304 ]]; then
		pass "/entities with If-None-Match $etag: 304"
	else
		fail "/entities with If-None-Match $etag: got $code, want 304"
	fi
else
	fail "/entities sent no ETag"
fi

# HEALTHCHECK: podman runs the image's own check inside the container.
if out=$(timeout 60 podman healthcheck run "$ctr" 2>&1); then
	pass "podman healthcheck run: healthy${out:+ ($out)}"
else
	fail "podman healthcheck run: ${out:-exit $?}"
fi
# And the configured command itself, run in the container as the HEALTHCHECK
# would: exit 0 and "ok".
hc_cmd=()
while IFS= read -r line; do
	[[ -n $line ]] && hc_cmd+=("$line")
done < <(inspect '{{range .Config.Healthcheck.Test}}{{println .}}{{end}}')
if [[ ${hc_cmd[0]:-} == CMD && ${#hc_cmd[@]} -gt 1 ]]; then
	if out=$(timeout 60 podman exec "$ctr" "${hc_cmd[@]:1}" 2>&1) && [[ $out == ok ]]; then
		pass "HEALTHCHECK command run in the container (${hc_cmd[*]:1}): exit 0, \"$out\""
	else
		fail "HEALTHCHECK command ${hc_cmd[*]:1} in the running container: \"$out\", want exit 0 and \"ok\""
	fi
else
	fail "HEALTHCHECK test ${hc_cmd[*]:-<none>} is not an exec-form CMD"
fi
status=$(timeout 20 podman inspect --format '{{.State.Health.Status}}' "$ctr" 2>/dev/null ||
	timeout 20 podman inspect --format '{{.State.Healthcheck.Status}}' "$ctr" 2>/dev/null || echo unknown)
if [[ $status == healthy ]]; then
	pass "container health status: $status"
else
	fail "container health status: $status, want healthy"
fi

# The process really runs as the image's user (rootful, no user namespace:
# the host's view of the process's uids is the container's).
pid=$(timeout 20 podman inspect --format '{{.State.Pid}}' "$ctr" || true)
uids=$(awk '/^Uid:/ {print $2 ":" $3}' "/proc/$pid/status" 2>/dev/null || true)
if [[ $uids == "${user%%:*}:${user%%:*}" ]] && [[ ${user%%:*} != 0 ]]; then
	pass "service process $pid runs as uid ${user%%:*} (real:effective $uids)"
else
	fail "service process $pid runs with real:effective uids \"$uids\", want ${user%%:*}"
fi

# The version from the build argument reached the binary through -ldflags.
if timeout 20 podman logs "$ctr" 2>&1 | grep -F '"starting"' | grep -qF "\"version\":\"$version\""; then
	pass "the service logs version $version at start (set by -ldflags -X main.version)"
else
	fail "the start-up log does not carry version $version: $(timeout 20 podman logs "$ctr" 2>&1 | grep -F starting | head -n1 | cut -c1-200)"
fi

# /data exists and belongs to the runtime user; the binary is a static,
# trimmed, cgo-free build (its embedded build settings, read by go version -m).
if mnt=$(timeout 60 podman mount "$ctr" 2>/dev/null); then
	owner=$(stat -c '%u:%g' "$mnt/data" 2>/dev/null || echo missing)
	buildinfo=$(go version -m "$mnt/okta-entity-provider" 2>&1 || true)
	libs=$(find "$mnt" -xdev \( -name 'ld-linux*' -o -name 'libc.so*' \) 2>/dev/null | head -n1)
	timeout 60 podman umount "$ctr" >/dev/null 2>&1 || true
	if [[ $owner == "${user%%:*}":* ]]; then
		pass "/data is owned by the runtime user ($owner)"
	else
		fail "/data owner is $owner, want uid ${user%%:*}"
	fi
	# (With -trimpath, go does not record -ldflags in the build info.)
	missing_settings=()
	for w in "CGO_ENABLED=0" "-trimpath=true"; do
		grep -qE -- "^[[:space:]]*build[[:space:]]+$w\$" <<<"$buildinfo" || missing_settings+=("$w")
	done
	if ((${#missing_settings[@]} == 0)) && [[ -z $libs ]]; then
		pass "binary built with CGO_ENABLED=0 and -trimpath (go version -m), and runs with no C library in the image"
	else
		fail "binary build settings lack ${missing_settings[*]:-nothing}${libs:+; the image has a C library ($libs)}: $(grep -E 'CGO_ENABLED|trimpath|go[0-9]' <<<"$buildinfo" | tr '\n\t' '  ')"
	fi
else
	fail "podman mount failed, cannot check /data and the binary"
fi

# SIGTERM: the service shuts down cleanly, well inside the stop timeout.
stop_start=$SECONDS
timeout 60 podman stop --time 30 "$ctr" >/dev/null 2>&1 || true
exit_code=$(timeout 20 podman inspect --format '{{.State.ExitCode}}' "$ctr" || echo unknown)
if [[ $exit_code == 0 ]] && ((SECONDS - stop_start < 30)); then
	pass "podman stop (SIGTERM): exit code 0 after $((SECONDS - stop_start))s"
else
	fail "podman stop (SIGTERM): exit code $exit_code after $((SECONDS - stop_start))s, want 0 before the 30s kill"
	timeout 20 podman logs --tail 20 "$ctr" 2>&1 || true
fi

finish
