package main

import (
	"io/fs"
	"testing"
)

func TestContainerMemoryLimit(t *testing.T) {
	t.Parallel()
	const v2, v1 = "/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"
	tests := []struct {
		name     string
		env      string
		files    map[string]string
		want     int64
		wantPath string
	}{
		{"v2 limit", "", map[string]string{v2: "419430400\n"}, 377487360, v2},
		{"v2 no limit", "", map[string]string{v2: "max\n", v1: "419430400\n"}, 0, ""},
		{"v1 limit", "", map[string]string{v1: "1073741824\n"}, 966367641, v1},
		{"v1 no limit", "", map[string]string{v1: "9223372036854771712\n"}, 0, ""},
		{"no cgroup files", "", nil, 0, ""},
		{"garbage", "", map[string]string{v2: "lots\n"}, 0, ""},
		{"GOMEMLIMIT wins", "300MiB", map[string]string{v2: "419430400\n"}, 0, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			getenv := func(k string) string {
				if k == "GOMEMLIMIT" {
					return tt.env
				}
				return ""
			}
			readFile := func(path string) ([]byte, error) {
				if s, ok := tt.files[path]; ok {
					return []byte(s), nil
				}
				return nil, fs.ErrNotExist
			}
			got, path := containerMemoryLimit(getenv, readFile)
			if got != tt.want || path != tt.wantPath {
				t.Errorf("got %d from %q, want %d from %q", got, path, tt.want, tt.wantPath)
			}
		})
	}
}
