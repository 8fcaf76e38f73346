// Command syncbench measures one sync step against an Okta org (normally
// the fake Okta of cmd/fake-okta, in its own process so that the memory
// measured is the sync's alone) and prints one JSON line of figures: Okta
// calls (with the minimum for a full sync and the target bound for a small
// change), 429s, wall time and peak RSS.
//
//	syncbench -okta-url http://127.0.0.1:18080 -state /var/tmp/state -mode full
//
// Modes:
//   - full: a full sync, saved to -state.
//   - noop: load -state, an incremental sync with no change in Okta, save.
//   - small: load -state, change the org through the fake's admin API (10
//     user profiles, 5 memberships added, 1 group deleted), an incremental
//     sync, save.
//   - serve: load -state, build the catalog, pre-encode the snapshot and GET
//     /entities from the API server (the full body, then the 304 path).
//   - cycle: the service's steady state in one process: load -state and build
//     the snapshot served from it, make the small change, an incremental
//     sync, build the next snapshot beside the served one, save.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/api"
	"github.com/okta-entity-provider/okta-entity-provider/bench/internal/command"
	"github.com/okta-entity-provider/okta-entity-provider/bench/internal/fakeadmin"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

func main() { command.Main("syncbench", run) }

// result is the line printed for one step.
type result struct {
	Mode           string  `json:"mode"`
	Users          int     `json:"users"`
	Groups         int     `json:"groups"`
	Memberships    int     `json:"memberships"`
	OktaCalls      int64   `json:"oktaCalls"`
	UserCalls      int64   `json:"userCalls"`
	GroupCalls     int64   `json:"groupCalls"`
	MemberCalls    int64   `json:"memberCalls"`
	LogCalls       int64   `json:"logCalls"`
	MemberListings int     `json:"memberListings"`
	CallBound      int64   `json:"callBound,omitempty"` // the target for small: 5 + sum ceil(members/1000)
	MinCalls       int64   `json:"minCalls,omitempty"`  // the minimum for full, from the fake's own counts
	RateLimited    int64   `json:"rateLimited"`         // 429s the fake answered during the step
	ServerCalls    int64   `json:"serverCalls"`
	MaxInFlight    int     `json:"maxInFlight"`
	WallSeconds    float64 `json:"wallSeconds"`
	SyncSeconds    float64 `json:"syncSeconds"`
	LoadSeconds    float64 `json:"loadSeconds,omitempty"`
	SaveSeconds    float64 `json:"saveSeconds,omitempty"`
	StateFileMB    float64 `json:"stateFileMB,omitempty"`
	BuildSeconds   float64 `json:"buildSeconds,omitempty"`
	BodyMB         float64 `json:"bodyMB,omitempty"`
	GetSeconds     float64 `json:"getSeconds,omitempty"`
	NotModifiedMs  float64 `json:"notModifiedMs,omitempty"`
	PeakRSSMB      float64 `json:"peakRSSMB"`
	// PeakHeapMB is the largest Go heap (live and not yet collected objects)
	// seen, sampled every 5 ms, and PhasePeakHeapMB the largest in each phase
	// of the step; LiveHeapMB is the heap live at the end.
	PeakHeapMB      float64            `json:"peakHeapMB"`
	PhasePeakHeapMB map[string]float64 `json:"phasePeakHeapMB"`
	LiveHeapMB      float64            `json:"liveHeapMB"`
	// What the snapshot of serve holds: the gzip encodings of All and
	// AllJSON (their length, and the capacity their buffers keep), the bodies
	// of one kind being built on first request only. SnapshotYAMLMB and
	// SnapshotJSONMB are the sizes of All and AllJSON uncompressed, which the
	// snapshot does not keep.
	SnapshotYAMLMB    float64 `json:"snapshotYAMLMB,omitempty"`
	SnapshotJSONMB    float64 `json:"snapshotJSONMB,omitempty"`
	SnapshotGzipMB    float64 `json:"snapshotGzipMB,omitempty"`
	SnapshotGzipCapMB float64 `json:"snapshotGzipCapMB,omitempty"`
	Changed           bool    `json:"changed"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	var (
		oktaURL     = fs.String("okta-url", "http://127.0.0.1:18080", "org URL (the fake Okta)")
		token       = fs.String("token", "demo-token", "API token")
		statePath   = fs.String("state", "", "state file (required)")
		mode        = fs.String("mode", "full", "full, noop, small, serve or cycle")
		concurrency = fs.Int("concurrency", 0, "member listings at once (0: orgsync's default)")
		maxInFlight = fs.Int("max-in-flight", 0, "the client's cap on requests in flight (0: the client's default)")
		rateShare   = fs.Float64("rate-share", 0.5, "share of each rate-limit bucket to use")
		cpuProfile  = fs.String("cpuprofile", "", "write a CPU profile of the step to this file")
		memProfile  = fs.String("memprofile", "", "write an allocation profile of the step to this file")
	)
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		// Sampled finely (every 4 KB allocated, not every 512 KB), so that the
		// profile shows where the allocations of the step come from. The
		// profile costs memory: peak RSS is measured without it.
		runtime.MemProfileRate = 4096
		defer func() {
			if f, err := os.Create(*memProfile); err == nil {
				_ = pprof.Lookup("allocs").WriteTo(f, 0)
				f.Close()
			}
		}()
	}
	if *statePath == "" {
		return errors.New("-state is required")
	}
	client, err := okta.NewClient(*oktaURL, okta.NewTokenAuth(*token), okta.Options{
		RateShare:      *rateShare,
		MaxConcurrency: *maxInFlight,
		Logger:         zerolog.New(stderr).Level(zerolog.WarnLevel),
	})
	if err != nil {
		return err
	}
	syncer := orgsync.New(client, orgsync.Options{Concurrency: *concurrency}, zerolog.New(stderr).Level(zerolog.InfoLevel))
	fake := fakeAdmin{fakeadmin.Client{Base: strings.TrimSuffix(*oktaURL, "/")}}
	before, err := fake.stats(ctx)
	if err != nil {
		return err
	}

	heap := sampleHeap()
	start := time.Now()
	res := result{Mode: *mode, PhasePeakHeapMB: map[string]float64{}}
	phase := func(name string) { res.PhasePeakHeapMB[name] = mb(int64(heap.take())) }
	var st *orgsync.State
	var stats orgsync.Stats
	// load reads the state the previous step saved, timed as the load phase.
	load := func() (*orgsync.State, error) {
		t := time.Now()
		prev, err := orgsync.Load(*statePath)
		res.LoadSeconds = time.Since(t).Seconds()
		phase("load")
		return prev, err
	}
	switch *mode {
	case "full":
		t := time.Now()
		if st, stats, err = syncer.Full(ctx); err != nil {
			return err
		}
		res.SyncSeconds = time.Since(t).Seconds()
		phase("sync")
	case "noop", "small":
		prev, err := load()
		if err != nil {
			return err
		}
		if *mode == "small" {
			if res.CallBound, err = fake.smallChange(ctx, prev); err != nil {
				return err
			}
		}
		t := time.Now()
		if st, stats, err = syncer.Incremental(ctx, prev); err != nil {
			return err
		}
		res.SyncSeconds = time.Since(t).Seconds()
		phase("sync")
	case "serve":
		if err := serve(ctx, *statePath, &res, phase); err != nil {
			return err
		}
	case "cycle":
		prev, err := load()
		if err != nil {
			return err
		}
		t := time.Now()
		served := buildSnapshot(prev, nil)
		res.BuildSeconds = time.Since(t).Seconds()
		phase("build")
		if res.CallBound, err = fake.smallChange(ctx, prev); err != nil {
			return err
		}
		t = time.Now()
		if st, stats, err = syncer.Incremental(ctx, prev); err != nil {
			return err
		}
		res.SyncSeconds = time.Since(t).Seconds()
		phase("sync")
		t = time.Now()
		next := buildSnapshot(st, served)
		res.BuildSeconds += time.Since(t).Seconds()
		phase("rebuild")
		// Both snapshots stay live until the new one is published, as in the
		// service; the state is saved after.
		runtime.KeepAlive(served)
		defer runtime.KeepAlive(next)
	default:
		return fmt.Errorf("unknown mode %q", *mode)
	}
	if st != nil {
		t := time.Now()
		if err := orgsync.Save(*statePath, st); err != nil {
			return err
		}
		res.SaveSeconds = time.Since(t).Seconds()
		phase("save")
		if fi, err := os.Stat(*statePath); err == nil {
			res.StateFileMB = mb(fi.Size())
		}
		res.OktaCalls, res.UserCalls, res.GroupCalls, res.MemberCalls, res.LogCalls = stats.Calls, stats.UserCalls, stats.GroupCalls, stats.MemberCalls, stats.LogCalls
		res.MemberListings, res.Changed = stats.MemberListings, stats.Changed
	}
	after, err := fake.stats(ctx)
	if err != nil {
		return err
	}
	res.RateLimited = after.RateLimited - before.RateLimited
	res.ServerCalls = after.Calls - before.Calls
	res.MaxInFlight = after.MaxInFlight
	res.WallSeconds = time.Since(start).Seconds()
	res.PeakRSSMB = peakRSS()
	res.PeakHeapMB = mb(int64(heap.stop()))
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	res.LiveHeapMB = mb(int64(ms.HeapAlloc)) // with the state the step made, if any
	if st != nil {
		// After the peak RSS is read: State.Counts allocates (it builds the
		// member lists), and reporting is not the step's work.
		res.Users, res.Groups, res.Memberships = st.Counts()
	}
	if *mode == "full" {
		// After the peak RSS is read: the org's listing is the benchmark's
		// memory, not the sync's.
		if res.MinCalls, err = fake.minFullCalls(ctx); err != nil {
			return err
		}
	}
	b, _ := json.Marshal(res)
	fmt.Fprintln(stdout, string(b))
	return nil
}

// serve builds the catalog from a saved state, pre-encodes the snapshot
// and reads /entities from the API server over loopback HTTP.
func serve(ctx context.Context, statePath string, res *result, phase func(string)) error {
	t := time.Now()
	st, err := orgsync.Load(statePath)
	if err != nil {
		return err
	}
	res.LoadSeconds = time.Since(t).Seconds()
	phase("load")
	// Counted here, while the state is live anyway; its garbage comes before
	// the build, whose peak is higher.
	res.Users, res.Groups, res.Memberships = st.Counts()
	phase("counts")

	t = time.Now()
	snap := snapshot.Build(nil, catalog.Map(catalog.DefaultOptions(), provider.CatalogInput(st)), time.Now(), 0)
	res.BuildSeconds = time.Since(t).Seconds()
	phase("snapshot")
	res.SnapshotYAMLMB = mb(snap.All.Size)
	res.SnapshotJSONMB = mb(snap.AllJSON.Size)
	for _, b := range []*snapshot.Body{&snap.All, &snap.AllJSON} {
		res.SnapshotGzipMB += mb(int64(len(b.Gzip)))
		res.SnapshotGzipCapMB += mb(int64(cap(b.Gzip)))
	}
	runtime.GC()

	srv := httptest.NewServer(api.NewServer(zerolog.Nop(), snapshotSource{snap}, http.NotFoundHandler(), nil, api.Config{}))
	defer srv.Close()
	t = time.Now()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/entities", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET /entities: status %d, %v", resp.StatusCode, err)
	}
	res.GetSeconds = time.Since(t).Seconds()
	res.BodyMB = mb(n)

	t = time.Now()
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/entities", nil)
	req.Header.Set("If-None-Match", resp.Header.Get("ETag"))
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotModified {
		return fmt.Errorf("GET /entities with If-None-Match: status %d, want 304", resp.StatusCode)
	}
	res.NotModifiedMs = float64(time.Since(t).Microseconds()) / 1000
	phase("serve")
	return nil
}

// buildSnapshot maps st into a catalog snapshot as the service does
// (collecting garbage and returning it to the system first, as
// provider.build does), prev (nil for none) being the snapshot served.
func buildSnapshot(st *orgsync.State, prev *snapshot.Snapshot) *snapshot.Snapshot {
	debug.FreeOSMemory()
	in := provider.CatalogInput(st)
	return snapshot.Build(prev, catalog.Map(catalog.DefaultOptions(), in), time.Now(), 0)
}

// snapshotSource serves one fixed snapshot to the API server.
type snapshotSource struct{ snap *snapshot.Snapshot }

func (s snapshotSource) Snapshot() *snapshot.Snapshot { return s.snap }
func (s snapshotSource) Status() any                  { return map[string]any{} }
func (s snapshotSource) AcceptHeld(context.Context, string) (string, error) {
	return "", nil
}
func (s snapshotSource) HeldChanges() (string, []string, []string) { return "", nil, nil }
func (s snapshotSource) NotReady() string                          { return "" }

// fakeAdmin reads the fake Okta's counters and changes its org.
type fakeAdmin struct{ fakeadmin.Client }

type fakeStats struct {
	Calls       int64 `json:"calls"`
	RateLimited int64 `json:"rateLimited"`
	MaxInFlight int   `json:"maxInFlight"`
}

func (f fakeAdmin) stats(ctx context.Context) (fakeStats, error) {
	var s fakeStats
	body, err := f.Do(ctx, http.MethodGet, "/_fake/stats", nil)
	if err != nil {
		return s, err
	}
	return s, json.Unmarshal(body, &s)
}

// minFullCalls returns the fewest Okta calls a full sync of the fake's org
// can make, from the fake's own view of it: the user pages (200 a page; a
// plain listing leaves DEPROVISIONED users out), the group pages (200 a
// page), the member pages (1000 a page) of every non-empty group but
// Everyone (whose members are all the users), and one System Log page.
func (f fakeAdmin) minFullCalls(ctx context.Context) (int64, error) {
	body, err := f.Do(ctx, http.MethodGet, "/_fake/truth", nil)
	if err != nil {
		return 0, err
	}
	var truth struct {
		Users         int `json:"users"`
		Deprovisioned int `json:"deprovisionedUsers"`
		Groups        int `json:"groups"`
		GroupList     []struct {
			Type       string `json:"type"`
			UsersCount int    `json:"usersCount"`
		} `json:"groupList"`
	}
	if err := json.Unmarshal(body, &truth); err != nil {
		return 0, fmt.Errorf("GET /_fake/truth: %w", err)
	}
	pages := func(n, size int) int64 { return int64((n + size - 1) / size) }
	calls := pages(truth.Users-truth.Deprovisioned, 200) + pages(truth.Groups, 200) + 1
	for _, g := range truth.GroupList {
		if g.Type != okta.GroupTypeBuiltIn {
			calls += pages(g.UsersCount, 1000)
		}
	}
	return calls, nil
}

// smallChange makes fakeadmin's small change, choosing it from the state,
// and returns the call bound of the target for the sync that picks it up.
func (f fakeAdmin) smallChange(ctx context.Context, st *orgsync.State) (int64, error) {
	o := fakeadmin.Org{Members: st.Members()}
	for _, u := range st.Users() {
		o.Users = append(o.Users, u.ID)
	}
	for _, g := range st.Groups() {
		o.Groups = append(o.Groups, fakeadmin.Group{ID: g.ID, Type: g.Type})
	}
	c, err := f.SmallChange(ctx, o)
	return c.CallBound, err
}

// heapSampler samples the bytes of heap objects (live or not yet
// collected) every 5 ms. runtime/metrics reads do not stop the world.
type heapSampler struct {
	mu         sync.Mutex
	peak, all  uint64
	done       chan struct{}
	doneSample chan struct{}
}

func sampleHeap() *heapSampler {
	h := &heapSampler{done: make(chan struct{}), doneSample: make(chan struct{})}
	go func() {
		defer close(h.doneSample)
		samples := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			if samples[0].Value.Kind() == metrics.KindUint64 {
				v := samples[0].Value.Uint64()
				h.mu.Lock()
				h.peak, h.all = max(h.peak, v), max(h.all, v)
				h.mu.Unlock()
			}
			select {
			case <-h.done:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// take returns the largest sample since the last take and starts a new
// phase.
func (h *heapSampler) take() uint64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	p := h.peak
	h.peak = 0
	return p
}

// stop ends the sampling and returns the largest sample of all.
func (h *heapSampler) stop() uint64 {
	close(h.done)
	<-h.doneSample
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.all
}

// peakRSS returns the process's peak resident set size in MB (VmHWM).
func peakRSS() float64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return float64(kb) / 1024
		}
	}
	return 0
}

func mb(n int64) float64 { return float64(n) / (1 << 20) }
