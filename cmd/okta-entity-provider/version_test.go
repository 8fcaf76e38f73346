package main

import (
	"bytes"
	"context"
	"runtime/debug"
	"strings"
	"testing"
)

func TestReadBuildInfo(t *testing.T) {
	t.Parallel()
	info := &debug.BuildInfo{GoVersion: "go1.26.0", Main: debug.Module{Version: "v1.4.0"}, Settings: []debug.BuildSetting{
		{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"},
	}}
	read := func() (*debug.BuildInfo, bool) { return info, true }
	for _, tt := range []struct {
		name, linked, want string
	}{
		{"module version", "dev", "okta-entity-provider v1.4.0 commit 0123456789abcdef (modified) of 2026-12-01T10:00:00Z, built with go1.26.0"},
		{"linked version wins", "1.5.0-rc1", "okta-entity-provider 1.5.0-rc1 commit 0123456789abcdef (modified) of 2026-12-01T10:00:00Z, built with go1.26.0"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := readBuildInfo(read, tt.linked, "").String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
	none := readBuildInfo(func() (*debug.BuildInfo, bool) { return nil, false }, "dev", "")
	if got, want := none.String(), "okta-entity-provider dev commit unknown"; got != want {
		t.Errorf("without build info: got %q, want %q", got, want)
	}
	// A container build links the commit in; a recorded one wins over it.
	linked := readBuildInfo(func() (*debug.BuildInfo, bool) { return &debug.BuildInfo{GoVersion: "go1.26"}, true }, "v1.2.3", "abc123")
	if got, want := linked.String(), "okta-entity-provider v1.2.3 commit abc123, built with go1.26"; got != want {
		t.Errorf("linked revision: got %q, want %q", got, want)
	}
	recorded := readBuildInfo(func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "def456"}}}, true
	}, "v1.2.3", "abc123")
	if recorded.Revision != "def456" {
		t.Errorf("recorded revision: got %q, want def456", recorded.Revision)
	}
}

// -version and the version subcommand print the version line and start
// nothing, whatever the other settings.
func TestVersion(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"version"}, {"-version"}, {"--version"}, {"-log-level", "debug", "-version"}} {
		var out, errs bytes.Buffer
		getenv := func(k string) string {
			if k == "OKTA_ORG_URL" {
				return "not a url"
			}
			return ""
		}
		if err := run(context.Background(), args, getenv, &out, &errs); err != nil {
			t.Errorf("%v: got error %v, want none", args, err)
			continue
		}
		if got := out.String(); !strings.HasPrefix(got, "okta-entity-provider ") || !strings.Contains(got, " commit ") || strings.Count(got, "\n") != 1 {
			t.Errorf("%v: got %q, want one version line", args, got)
		}
	}
}
