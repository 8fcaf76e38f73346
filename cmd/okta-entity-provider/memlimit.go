package main

import (
	"bytes"
	"strconv"
)

// Container memory limit files: cgroup v2, then v1. With a cgroup namespace
// (the default for containers on cgroup v2) the container's own limit is at
// the root of the hierarchy it sees.
var cgroupLimitFiles = []string{
	"/sys/fs/cgroup/memory.max",
	"/sys/fs/cgroup/memory/memory.limit_in_bytes",
}

// memoryLimitShare is the share of the container's memory limit given to the
// Go runtime as its soft limit; the rest is for what the runtime does not
// count (thread stacks, the binary) and for the collector's lag.
const memoryLimitShare = 0.9

// containerMemoryLimit returns the soft memory limit to set for the Go
// runtime, and the file whose limit it derives from: memoryLimitShare of the
// container's memory limit. It returns 0 when GOMEMLIMIT is set (the runtime
// has applied it already) or no limit can be read. Without a soft limit the
// collector lets the heap grow to twice what is live, and the kernel kills a
// process that crosses its container's limit; with one, the collector works
// harder as the heap nears the limit instead.
func containerMemoryLimit(getenv func(string) string, readFile func(string) ([]byte, error)) (int64, string) {
	if getenv("GOMEMLIMIT") != "" {
		return 0, ""
	}
	for _, path := range cgroupLimitFiles {
		data, err := readFile(path)
		if err != nil {
			continue
		}
		n, err := strconv.ParseInt(string(bytes.TrimSpace(data)), 10, 64)
		// "max" (v2) or a value near 2^63 (v1) means no limit.
		if err != nil || n <= 0 || n >= 1<<60 {
			return 0, ""
		}
		return int64(float64(n) * memoryLimitShare), path
	}
	return 0, ""
}
