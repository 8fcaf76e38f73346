package main

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// chromium finds a Chromium to drive: CHROMIUM names one, else the
// Debian package's, else one on PATH. "" when there is none.
func chromium() string {
	if p := os.Getenv("CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test writes its screenshots:
// BROWSER_SCREENSHOT_DIR, or the test's temporary directory.
func screenshotDir(t *testing.T) string {
	if d := os.Getenv("BROWSER_SCREENSHOT_DIR"); d != "" {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
		return d
	}
	return t.TempDir()
}

// TestStatusPageInBrowser drives headless Chromium through the status
// page against the fake Okta: the counts and the renames table as /status
// has them, then a mass deactivation that the deletion guard holds, its
// diff table, and accepting it through the page's form, after which the
// catalog serves the accepted snapshot.
func TestStatusPageInBrowser(t *testing.T) {
	t.Parallel()
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install Debian's chromium package, or set CHROMIUM to a Chromium binary): the status page's browser test needs one")
	}
	org := oktafake.GenerateOrg(oktafake.OrgOptions{Users: 120, Groups: 10, Seed: 5})
	_, orgURL := startFake(t, org, oktafake.Options{})
	const adminToken = "browser-admin-secret"
	s := startService(t, map[string]string{
		"OKTA_ORG_URL":  orgURL,
		"OKTA_TOKEN":    "demo-token",
		"SYNC_INTERVAL": "1s",
		"ADMIN_TOKEN":   adminToken,
		// Every removal is held: a sync that runs while the users below
		// are deactivated one by one holds the part it sees, and the
		// syncs after hold them all.
		"MAX_DELETE_SHARE": "0",
	})
	asynctest.WaitFor(t, 20*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	st := s.status(t)
	if st.Report.RenamesTotal == 0 {
		t.Fatal("the generated org brings no renames: the renames table cannot be checked; choose another seed or naming")
	}

	b := openPage(t, bin, s.base+"/")
	dir := screenshotDir(t)

	// The counts and the renames table.
	users, groups := b.text("#count-users"), b.text("#count-groups")
	if users != strconv.Itoa(st.Snapshot.Users) || groups != strconv.Itoa(st.Snapshot.Groups) {
		t.Errorf("counts on the page: got %s users and %s groups, want %d and %d", users, groups, st.Snapshot.Users, st.Snapshot.Groups)
	}
	if rows := b.cells("#renames tr td:nth-child(4)"); strings.Join(rows, " ") != strings.Join(renameTargets(st), " ") {
		t.Errorf("renames table's To column: got %v, want %v as /status lists", rows, renameTargets(st))
	}

	// A mass deactivation through the fake's admin API: held back.
	served := st.Snapshot.ETag
	deactivated := deactivateUsers(t, orgURL, org, 3)
	asynctest.WaitFor(t, 20*time.Second, "the whole deactivation to be held", func() bool {
		h := s.status(t).HeldBack
		return h != nil && h.RemovedUsers == len(deactivated)
	})
	st = s.status(t)
	held := st.HeldBack
	if held.RemovedUsers != len(deactivated) || held.RemovedTotal != len(held.Removed) {
		t.Errorf("heldBack: got %d users removed (%d refs listed of %d), want the %d deactivated", held.RemovedUsers, len(held.Removed), held.RemovedTotal, len(deactivated))
	}
	b.do(chromedp.Navigate(s.base + "/"))
	if etag := b.text("#held-etag"); etag != held.ETag {
		t.Errorf("held ETag on the page: got %s, want %s", etag, held.ETag)
	}
	if rows := b.cells("#held-removed td"); strings.Join(rows, " ") != strings.Join(held.Removed, " ") {
		t.Errorf("removed table: got %v, want %v", rows, held.Removed)
	}
	b.screenshot(filepath.Join(dir, "status-page-held.png"))

	// Accept through the page's form, with the admin token typed in.
	b.do(chromedp.SendKeys(chromedp.CSS("#accept-token"), adminToken),
		chromedp.Click(chromedp.CSS("#accept-button")),
		chromedp.WaitVisible(chromedp.CSS("#accepted")))
	if banner := b.text("#accepted"); !strings.Contains(banner, held.ETag) {
		t.Errorf("banner after accept: got %q, want it to name %s", banner, held.ETag)
	}
	b.screenshot(filepath.Join(dir, "status-page-accepted.png"))
	st = s.status(t)
	if st.HeldBack != nil || st.Snapshot.ETag != held.ETag {
		t.Errorf("after accepting: held %+v, serving %s; want none held and the accepted %s", st.HeldBack, st.Snapshot.ETag, held.ETag)
	}
	if got := s.get(t, "/entities").header.Get("ETag"); got != held.ETag || got == served {
		t.Errorf("the catalog's ETag after accepting: got %s, want the accepted %s", got, held.ETag)
	}
	if strings.Contains(s.logs.String(), adminToken) {
		t.Error("the admin token typed into the page is in the service's log")
	}
	t.Logf("screenshots in %s", dir)
}

// TestOrgsStatusPageInBrowser drives headless Chromium through the status
// page of a service serving two orgs of the fake Okta, one of whose Okta
// goes down: the orgs table shows each org's last sync, last success and
// failures in a row as /status has them, and each org's rate limits.
func TestOrgsStatusPageInBrowser(t *testing.T) {
	t.Parallel()
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium found (install Debian's chromium package, or set CHROMIUM to a Chromium binary): the status page's browser test needs one")
	}
	_, acmeURL := startFake(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: 60, Groups: 6, Seed: 5}), oktafake.Options{})
	globex, globexURL := startFake(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: 40, Groups: 4, Seed: 6}), oktafake.Options{})
	config := writeFile(t, "config.yaml", "orgs:\n"+
		"  - {name: acme, url: '"+acmeURL+"', tokenEnv: ACME_TOKEN}\n"+
		"  - {name: globex, url: '"+globexURL+"', tokenEnv: GLOBEX_TOKEN, namespace: globex}\n")
	s := startService(t, map[string]string{
		"CONFIG_FILE":      config,
		"ACME_TOKEN":       "demo-token",
		"GLOBEX_TOKEN":     "demo-token",
		"SYNC_INTERVAL":    "1s",
		"OKTA_MAX_RETRIES": "1",
	})
	asynctest.WaitFor(t, 20*time.Second, "ready", func() bool { return s.get(t, "/readyz").status == http.StatusOK })
	globex.SetFaults(oktafake.Faults{Down: true})
	asynctest.WaitFor(t, 20*time.Second, "globex's sync to fail", func() bool {
		st := s.status(t)
		return len(st.Orgs) == 2 && st.Orgs[1].FailuresInARow > 0 && st.Progress == nil
	})

	b := openPage(t, bin, s.base+"/")
	// Syncs run every second: the page is compared with the status read
	// before it when no sync finished while it loaded.
	var st provider.Status
	asynctest.WaitFor(t, 20*time.Second, "a page loaded between two syncs", func() bool {
		st = s.status(t)
		b.do(chromedp.Navigate(s.base + "/"))
		return s.status(t).Syncs == st.Syncs
	})

	if names := b.cells("#orgs tr td:nth-child(1)"); strings.Join(names, " ") != "acme globex" {
		t.Errorf("orgs table's names: got %v, want acme globex", names)
	}
	var outcomes, failures []string
	for _, o := range st.Orgs {
		outcomes = append(outcomes, string(o.LastSync.Outcome))
		failures = append(failures, strconv.Itoa(o.FailuresInARow))
	}
	if got := b.cells("#orgs tr td:nth-child(4)"); strings.Join(got, " ") != strings.Join(outcomes, " ") || outcomes[1] != "failed" {
		t.Errorf("orgs table's outcomes: got %v, want %v as /status has them, globex failed", got, outcomes)
	}
	if got := b.cells("#orgs tr td:nth-child(7)"); strings.Join(got, " ") != strings.Join(failures, " ") {
		t.Errorf("orgs table's failures in a row: got %v, want %v as /status has them", got, failures)
	}
	if detail := b.text("#orgs tr:nth-child(3) td:nth-child(8)"); detail != st.Orgs[1].LastSync.Error {
		t.Errorf("globex's detail: got %q, want its error %q", detail, st.Orgs[1].LastSync.Error)
	}
	for _, o := range st.Orgs {
		if buckets := b.cells("#rate-limits-" + o.Name + " tr td:nth-child(1)"); len(buckets) != len(o.RateLimits) || len(buckets) == 0 {
			t.Errorf("%s's rate limits: got buckets %v, want the %d of /status", o.Name, buckets, len(o.RateLimits))
		}
	}
	dir := screenshotDir(t)
	b.screenshot(filepath.Join(dir, "status-page-orgs.png"))
	t.Logf("screenshot in %s", dir)
}

// renameTargets lists the names the renames of st's report gave.
func renameTargets(st provider.Status) []string {
	var out []string
	for _, r := range st.Report.Renames {
		out = append(out, r.To)
	}
	return out
}

// openPage starts the Chromium at bin, headless, and loads url in a tab;
// the browser stops when the test ends.
func openPage(t *testing.T, bin, url string) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	tab, cancelTab := chromedp.NewContext(actx)
	t.Cleanup(cancelTab)
	// The first action starts the browser, and lives as long as its
	// context: without a timeout. The later ones have one.
	if err := chromedp.Do(tab, chromedp.Navigate(url)); err != nil {
		t.Fatalf("start Chromium (%s) and load %s: %v", bin, url, err)
	}
	return &browser{t: t, tab: tab}
}

// browser runs actions in one tab, each within browserTimeout, and fails
// the test on an error.
type browser struct {
	t   *testing.T
	tab context.Context
}

const browserTimeout = 10 * time.Second

func run1[T any](b *browser, a chromedp.Action[T]) (T, error) {
	ctx, cancel := context.WithTimeout(b.tab, browserTimeout)
	defer cancel()
	return chromedp.Run(ctx, a)
}

func (b *browser) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if _, err := run1(b, chromedp.Steps(steps...)); err != nil {
		b.t.Fatalf("browser: %v", err)
	}
}

// text returns the text of the element sel selects.
func (b *browser) text(sel string) string {
	b.t.Helper()
	v, err := run1(b, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("browser: text of %s: %v", sel, err)
	}
	return strings.TrimSpace(v)
}

// cells returns the text of every element sel selects, in order.
func (b *browser) cells(sel string) []string {
	b.t.Helper()
	js := `Array.from(document.querySelectorAll(` + strconv.Quote(sel) + `)).map(e => e.textContent.trim())`
	v, err := run1(b, chromedp.Evaluate[[]string](js))
	if err != nil {
		b.t.Fatalf("browser: cells %s: %v", sel, err)
	}
	return v
}

// screenshot saves the whole page to path.
func (b *browser) screenshot(path string) {
	b.t.Helper()
	png, err := run1(b, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatalf("browser: screenshot: %v", err)
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// deactivateUsers deactivates every nth user of org that is active (and
// so in the catalog) through the fake's admin API, as an Okta admin
// deactivating many at once, and returns their ids.
func deactivateUsers(t *testing.T, orgURL string, org *oktafake.Org, nth int) []string {
	t.Helper()
	var ids []string
	for i, u := range org.Users() {
		if i%nth != 0 || u.Status != okta.StatusActive {
			continue
		}
		resp, err := http.Post(orgURL+"/_fake/users/"+u.ID+"/deactivate", "application/json", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode >= 300 {
			t.Fatalf("deactivate %s: got %d", u.ID, resp.StatusCode)
		}
		ids = append(ids, u.ID)
	}
	return ids
}
