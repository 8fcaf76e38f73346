package api

import (
	"context"
	"encoding/json"
	"html"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/rs/zerolog"

	oktaentityprovider "github.com/okta-entity-provider/okta-entity-provider"
	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
	"github.com/okta-entity-provider/okta-entity-provider/internal/oktafake"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// fakeOkta serves org from the fake Okta, mounted under a path prefix,
// and returns the fake with a client for it.
func fakeOkta(t *testing.T, org *oktafake.Org) (*oktafake.Server, *okta.Client) {
	t.Helper()
	fake := oktafake.NewServer(org, oktafake.Options{Prefix: "/okta", LogDelay: -1})
	ts := httptest.NewServer(fake)
	t.Cleanup(ts.Close)
	// Retries come quickly, so that a fake that is down fails a sync at
	// once.
	client, err := okta.NewClient(ts.URL+"/okta", okta.NewTokenAuth("demo-token"),
		okta.Options{MaxConcurrency: 4, RetryBaseDelay: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return fake, client
}

// twoOrgs returns a provider serving two orgs of the fake Okta, acme and
// globex, that has synced twice: both orgs the first time, and acme only
// the second, while globex's Okta was down.
func twoOrgs(t *testing.T) *provider.Provider {
	t.Helper()
	// The same generated org twice: every entity collides with its twin
	// in the other org, so the report's lists name orgs.
	_, acme := fakeOkta(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: 40, Groups: 6, Seed: 7}))
	globexFake, globex := fakeOkta(t, oktafake.GenerateOrg(oktafake.OrgOptions{Users: 40, Groups: 6, Seed: 7}))
	p := provider.New(zerolog.Nop(), nil, provider.Config{
		Interval: time.Hour, Timeout: time.Minute, FullInterval: 24 * time.Hour, MaxDeleteShare: 0.5,
		Orgs: []provider.Org{
			{Name: "acme", Client: acme, Catalog: catalog.DefaultOptions()},
			{Name: "globex", Client: globex, Catalog: catalog.DefaultOptions()},
		},
	}, nil)
	ctx := context.Background()
	if got := p.SyncOnce(ctx); got != provider.OutcomeOK {
		t.Fatalf("first sync: got %s, want ok: %+v", got, p.Report().LastSync)
	}
	globexFake.SetFaults(oktafake.Faults{Down: true})
	if got := p.SyncOnce(ctx); got != provider.OutcomeOK {
		t.Fatalf("sync with globex down: got %s, want ok (globex's entities kept): %+v", got, p.Report().LastSync)
	}
	return p
}

// orgsStatus is the part of /status with several orgs this test reads.
type orgsStatus struct {
	RateLimits map[string]any `json:"rateLimits"`
	Changes    any            `json:"changes"`
	Orgs       []struct {
		Name     string `json:"name"`
		LastSync *struct {
			Outcome string `json:"outcome"`
			Error   string `json:"error"`
		} `json:"lastSync"`
		LastOKAt       *time.Time     `json:"lastSuccessAt"`
		FailuresInARow int            `json:"failuresInARow"`
		RateLimits     map[string]any `json:"rateLimits"`
		Changes        any            `json:"changes"`
	} `json:"orgs"`
	Report struct {
		Users   int `json:"users"`
		Renames []struct {
			Org string `json:"org"`
		} `json:"renames"`
		Orgs []struct {
			Name  string `json:"name"`
			Users int    `json:"users"`
		} `json:"orgs"`
	} `json:"report"`
}

// TestOrgsStatusMatchesSpec holds the /status of a provider serving two
// orgs to openapi.yaml: its orgs, each with its own outcome, failures,
// rate limits and change tracking, and the report's orgs and the org of
// its list items.
func TestOrgsStatusMatchesSpec(t *testing.T) {
	t.Parallel()
	spec := loadSpec(t)
	p := twoOrgs(t)
	h := NewServer(zerolog.Nop(), p, nil, oktaentityprovider.OpenAPI, Config{})
	res, body := serve(t, spec, h, httptest.NewRequest("GET", "/status", nil))
	if res.StatusCode != 200 {
		t.Fatalf("GET /status: got %d, want 200: %s", res.StatusCode, body)
	}
	var st orgsStatus
	if err := json.Unmarshal(body, &st); err != nil {
		t.Fatal(err)
	}
	if len(st.RateLimits) != 0 || st.Changes != nil {
		t.Errorf("top-level rateLimits %v and changes %v: want them empty and null with orgs", st.RateLimits, st.Changes)
	}
	if len(st.Orgs) != 2 || st.Orgs[0].Name != "acme" || st.Orgs[1].Name != "globex" {
		t.Fatalf("orgs: got %+v, want acme then globex", st.Orgs)
	}
	acme, globex := st.Orgs[0], st.Orgs[1]
	if acme.LastSync == nil || acme.LastSync.Outcome != "ok" || acme.FailuresInARow != 0 || acme.LastOKAt == nil ||
		len(acme.RateLimits) == 0 || acme.Changes == nil {
		t.Errorf("acme: got %+v, want its last sync ok, no failures, a last success, rate limits and change tracking", acme)
	}
	if globex.LastSync == nil || globex.LastSync.Outcome != "failed" || globex.LastSync.Error == "" ||
		globex.FailuresInARow != 1 || globex.LastOKAt == nil || !globex.LastOKAt.Before(*acme.LastOKAt) {
		t.Errorf("globex: got %+v, want its last sync failed with an error, 1 failure in a row, and its last success the first sync's", globex)
	}

	r := st.Report
	if len(r.Orgs) != 2 || r.Orgs[0].Name != "acme" || r.Orgs[1].Name != "globex" ||
		r.Orgs[0].Users+r.Orgs[1].Users != r.Users || r.Orgs[1].Users == 0 {
		t.Errorf("report orgs: got %+v for %d users, want acme and globex, globex's entities kept, their users summing up", r.Orgs, r.Users)
	}
	named := map[string]bool{}
	for _, rn := range r.Renames {
		named[rn.Org] = true
	}
	if !named["globex"] || named[""] {
		t.Errorf("report renames name the orgs %v: want every rename to name its org, globex's twins among them", named)
	}
}

// tableRows returns the text of each cell of each row of the table with
// the given id in page, or nil when there is none. The page is this
// package's own template, so a table holds no other table.
func tableRows(page, id string) [][]string {
	table := regexp.MustCompile(`(?s)<table id="` + regexp.QuoteMeta(id) + `">(.*?)</table>`).FindStringSubmatch(page)
	if table == nil {
		return nil
	}
	var rows [][]string
	for _, tr := range regexp.MustCompile(`(?s)<tr>(.*?)</tr>`).FindAllStringSubmatch(table[1], -1) {
		var cells []string
		for _, td := range regexp.MustCompile(`(?s)<t[dh][^>]*>(.*?)</t[dh]>`).FindAllStringSubmatch(tr[1], -1) {
			text := regexp.MustCompile(`<[^>]+>`).ReplaceAllString(td[1], "")
			cells = append(cells, strings.TrimSpace(html.UnescapeString(text)))
		}
		rows = append(rows, cells)
	}
	return rows
}

// TestOrgsPage renders the status page of a provider serving two orgs:
// a table of the orgs with each one's last sync, last success and
// failures in a row, and each org's rate limits; the page of one org has
// neither.
func TestOrgsPage(t *testing.T) {
	t.Parallel()
	page := func(src Source) string {
		t.Helper()
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Set("Accept", "text/html")
		res, body := serve(t, nil, NewServer(zerolog.Nop(), src, nil, nil, Config{}), r)
		if res.StatusCode != 200 {
			t.Fatalf("GET /: got %d, want 200: %s", res.StatusCode, body)
		}
		return string(body)
	}

	p := twoOrgs(t)
	st := p.Report()
	got := page(p)
	rows := tableRows(got, "orgs")
	if len(rows) != 3 {
		t.Fatalf("orgs table: got rows %q, want a header and 2 orgs", rows)
	}
	head := []string{"Org", "Last sync", "Mode", "Outcome", "Okta calls", "Last success", "Failures in a row", "Detail"}
	if diff := cmp.Diff(head, rows[0]); diff != "" {
		t.Errorf("orgs table header (-want +got):\n%s", diff)
	}
	for i, row := range rows[1:] {
		o := st.Orgs[i]
		want := []string{o.Name, timeText(o.LastSync.FinishedAt), string(o.LastSync.Mode), string(o.LastSync.Outcome),
			countText(o.LastSync.OktaCalls), "", strconv.Itoa(o.FailuresInARow), o.LastSync.Error}
		if len(row) == len(want) {
			want[5] = row[5] // how long ago depends on the clock; its start does not
			if !strings.HasPrefix(row[5], timeText(*o.LastOKAt)+" (") {
				t.Errorf("org %s: got last success %q, want it to start with %s", o.Name, row[5], timeText(*o.LastOKAt))
			}
		}
		if diff := cmp.Diff(want, row); diff != "" {
			t.Errorf("org %s's row (-want +got):\n%s", o.Name, diff)
		}
	}
	if globex := rows[2]; globex[3] != "failed" || globex[6] != "1" || globex[7] == "" {
		t.Errorf("globex's row: got %q, want its sync failed, once in a row, with the error", globex)
	}
	for _, o := range st.Orgs {
		if rl := tableRows(got, "rate-limits-"+o.Name); len(rl) != len(o.RateLimits)+1 || len(o.RateLimits) == 0 {
			t.Errorf("org %s's rate limits: got rows %q, want a header and its %d buckets", o.Name, rl, len(o.RateLimits))
		}
	}
	if strings.Contains(got, `id="rate-limits"`) {
		t.Error("the page of two orgs has the one org's rate-limit table, which is empty with orgs")
	}
	// Each rename's Okta id with its org: ids are unique within an org only.
	renames := tableRows(got, "renames")
	if len(renames) != len(st.Report.Renames)+1 || len(st.Report.Renames) == 0 {
		t.Fatalf("renames table: got %d rows, want a header and the report's %d renames", len(renames), len(st.Report.Renames))
	}
	for i, r := range st.Report.Renames {
		if got := renames[i+1][1]; got != r.Org+"/"+r.OktaID {
			t.Errorf("rename %d: got Okta id %q, want %s/%s", i, got, r.Org, r.OktaID)
		}
	}

	one := page(&fakeSource{snap: testSnapshot(10, 2, 0), status: testStatus(&catalog.Report{})})
	if strings.Contains(one, `id="orgs"`) || strings.Contains(one, `id="rate-limits-`) {
		t.Error("the page of one org has an orgs table or an org's rate limits")
	}
	if rl := tableRows(one, "rate-limits"); len(rl) != 2 || rl[1][0] != "users" {
		t.Errorf("the page of one org: got rate-limit rows %q, want a header and users", rl)
	}
}
