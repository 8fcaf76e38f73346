package main

import (
	"cmp"
	"fmt"
	"io"
	"runtime/debug"
	"strings"
)

// buildInfo is what the binary knows of its build: the module version
// (or the one given with -ldflags -X main.version), the VCS commit and
// whether the tree had changes, the commit's time and the Go version.
type buildInfo struct {
	Version, Revision, Time, GoVersion string
	Modified                           bool
}

// readBuildInfo returns the build's description from read
// (debug.ReadBuildInfo) and the version and revision set at link time.
// The linked version wins over the module's when set ("dev" is unset);
// the linked revision stands where the build recorded none (a build
// without the repository, as in a container build).
func readBuildInfo(read func() (*debug.BuildInfo, bool), linked, linkedRevision string) buildInfo {
	b := buildInfo{Version: linked, Revision: cmp.Or(linkedRevision, "unknown")}
	bi, ok := read()
	if !ok {
		return b
	}
	b.GoVersion = bi.GoVersion
	if linked == "" || linked == "dev" {
		b.Version = bi.Main.Version // "(devel)" for a build from a work tree
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Revision = s.Value
		case "vcs.time":
			b.Time = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// currentBuild describes the running binary's build.
func currentBuild() buildInfo { return readBuildInfo(debug.ReadBuildInfo, version, revision) }

// String is the line -version prints.
func (b buildInfo) String() string {
	var s strings.Builder
	fmt.Fprintf(&s, "okta-entity-provider %s commit %s", b.Version, b.Revision)
	if b.Modified {
		s.WriteString(" (modified)")
	}
	if b.Time != "" {
		fmt.Fprintf(&s, " of %s", b.Time)
	}
	if b.GoVersion != "" {
		fmt.Fprintf(&s, ", built with %s", b.GoVersion)
	}
	return s.String()
}

// printVersion writes the version line to w.
func printVersion(w io.Writer, b buildInfo) error {
	_, err := fmt.Fprintln(w, b.String())
	return err
}
