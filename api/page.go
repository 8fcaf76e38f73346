package api

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5/middleware"
	"github.com/rs/zerolog"
)

// statusPage is the status page's template: one HTML document, its style
// inline, no script and nothing fetched from elsewhere.
//
//go:embed status.html
var statusPage string

// pageCSP lets the page load nothing but itself and its inline style, be
// framed by no one (clickjacking), and post its form only to this service.
const pageCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

var pageTemplates = template.Must(template.New("status").Funcs(template.FuncMap{
	"since":     sinceText,
	"duration":  durationText,
	"time":      timeText,
	"count":     countText,
	"pct":       func(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) + " %" },
	"deref":     func(p *float64) float64 { return *p },
	"deref64":   func(p *int64) int64 { return *p },
	"derefInt":  func(p *int) int { return *p },
	"derefTime": func(p *time.Time) time.Time { return *p },
	"add":       func(a, b int64) int64 { return a + b },
}).Parse(statusPage))

// statusView is what the page shows of the source's status: the parts of
// the Status schema in openapi.yaml it renders, decoded from the same JSON
// /status answers, so that the page shows exactly what /status says.
type statusView struct {
	Syncs struct {
		Completed, Failed int64
	} `json:"syncs"`
	LastSync    *syncView  `json:"lastSync"`
	RecentSyncs []syncView `json:"recentSyncs"`
	LastOKAt    *time.Time `json:"lastSuccessAt"`
	Snapshot    *struct {
		Users, Groups, Shards int
		ETag                  string    `json:"etag"`
		BuiltAt               time.Time `json:"builtAt"`
	} `json:"snapshot"`
	HeldBack *struct {
		Users, Groups                                   int
		Reason                                          string
		Since                                           time.Time
		ETag                                            string `json:"etag"`
		RemovedUsers, RemovedGroups, RemovedMemberships int
		Removed, Added                                  []string
		RemovedTotal, AddedTotal                        int
	} `json:"heldBack"`
	Report *struct {
		Users, Groups, Memberships, InputUsers, InputGroups int
		SkippedUsersByStatus                                map[string]int
		SkippedUsersNotInGroup, SkippedEmptyGroups          int
		SkippedGroupsByType                                 map[string]int
		Renames                                             []struct{ Kind, OktaID, Org, From, To, Reason string }
		RenamesTotal                                        int
		DroppedRefs                                         []struct{ Kind, OktaID, Org, Target, Reason string }
		DroppedRefsTotal                                    int
		BrokenHierarchy                                     []struct{ OktaID, Org, Group, Parent, Reason string }
		BrokenHierarchyTotal                                int
		SkippedLabels                                       []struct{ Kind, OktaID, Org, Key, Value, Reason string }
		SkippedLabelsTotal                                  int
	} `json:"report"`
	RateLimits         map[string]rateLimitView `json:"rateLimits"`
	SnapshotAgeSeconds *float64                 `json:"snapshotAgeSeconds"`
	Changes            *struct {
		LastFullSyncAt time.Time  `json:"lastFullSyncAt"`
		NextFullSyncAt *time.Time `json:"nextFullSyncAt"`
		DeletionsFrom  string     `json:"deletionsFrom"`
		SystemLogError string     `json:"systemLogError"`
		Watermarks     struct{ Users, Groups, Log time.Time }
	} `json:"changes"`
	Progress *struct {
		Mode, Phase                 string
		StartedAt                   time.Time
		ElapsedSeconds              float64
		ListingsDone, ListingsTotal int
		UsersListed                 int
		UsersExpected               *int
		OktaCalls                   int64
		CallsRemaining              *int64
		Percent                     *float64
		PacedSeconds                float64
		ETASeconds                  *float64
		ETA                         *time.Time
	} `json:"progress"`
	Orgs []orgView `json:"orgs"`
}

// rateLimitView is what the page shows of one Okta rate-limit bucket.
type rateLimitView struct {
	Limit, Remaining, Allowance int
	Reset                       time.Time
	WindowSeconds, PacedSeconds float64
}

// orgView is what the page shows of one org of several.
type orgView struct {
	Name           string                   `json:"name"`
	LastSync       *syncView                `json:"lastSync"`
	LastOKAt       *time.Time               `json:"lastSuccessAt"`
	FailuresInARow int                      `json:"failuresInARow"`
	RateLimits     map[string]rateLimitView `json:"rateLimits"`
}

type syncView struct {
	Mode, Outcome, Reason, Error string
	StartedAt, FinishedAt        time.Time
	DurationSeconds              float64
	OktaCalls                    int64
}

// pageData is the template's input.
type pageData struct {
	Status     statusView
	Ready      bool
	NotReady   string
	Now        time.Time
	Accepted   string // the ETag just accepted, from the form's redirect
	AdminOn    bool
	Refresh    bool // reload by itself: a sync runs and nothing awaits review
	RequestID  string
	ListLimit  int
	ErrorTitle string // set on the page answering a failed form
	Error      string
}

// heldList is one of the held snapshot's lists of entity refs as the page
// shows it: its first refs, and a link to all of them, paged.
type heldList struct {
	Name  string // "removed" or "added": in its table's id and its link's path
	Title string
	Total int
	Refs  []string
	Limit int // the page size of the link
}

// HeldLists returns the held snapshot's lists of the refs it would remove
// and add; none when no snapshot is held.
func (d *pageData) HeldLists() []heldList {
	h := d.Status.HeldBack
	if h == nil {
		return nil
	}
	return []heldList{
		{Name: "removed", Title: "Removed", Total: h.RemovedTotal, Refs: h.Removed, Limit: d.ListLimit},
		{Name: "added", Title: "Added", Total: h.AddedTotal, Refs: h.Added, Limit: d.ListLimit},
	}
}

// handlePage serves the status page to browsers (text/html preferred) and
// the status as JSON to everything else, as GET /status does.
func handlePage(src Source, cfg Config) http.Handler {
	status := handleStatus(src)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept")
		if !prefersHTML(r.Header.Values("Accept")) {
			status.ServeHTTP(w, r)
			return
		}
		var d pageData
		if err := d.load(src); err != nil {
			writeError(w, r, err)
			return
		}
		d.Accepted = r.URL.Query().Get("accepted")
		d.AdminOn = cfg.AdminToken != ""
		d.Refresh = d.Status.Progress != nil && d.Status.HeldBack == nil
		renderPage(w, r, http.StatusOK, &d)
	})
}

// load fills d from src.
func (d *pageData) load(src Source) error {
	raw, err := json.Marshal(src.Status())
	if err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	if err := json.Unmarshal(raw, &d.Status); err != nil {
		return fmt.Errorf("status page: %w", err)
	}
	d.Ready = servable(src.Snapshot())
	if !d.Ready {
		d.NotReady = src.NotReady()
	}
	d.Now = time.Now().UTC()
	d.ListLimit = heldPageDefault
	return nil
}

// renderPage answers the page with status. The page is rendered whole
// before anything is sent, so that a template error is a clean 500.
func renderPage(w http.ResponseWriter, r *http.Request, status int, d *pageData) {
	d.RequestID = middleware.GetReqID(r.Context())
	var buf bytes.Buffer
	if err := pageTemplates.Execute(&buf, d); err != nil {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("render the status page")
		writeError(w, r, errInternal)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", pageCSP)
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin") // no-referrer would make the form's Origin "null"
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(buf.Bytes())
	}
}

// writePageError answers a failed form post with the page's own HTML: the
// error, and a link back to the status page.
func writePageError(w http.ResponseWriter, r *http.Request, err error) {
	he, ok := err.(*httpError) //nolint:errorlint // the errors of this package are not wrapped
	if !ok {
		zerolog.Ctx(r.Context()).Error().Err(err).Msg("request failed")
		he = errInternal
	}
	if he.challenge != "" {
		w.Header().Set("WWW-Authenticate", he.challenge)
	}
	d := pageData{ErrorTitle: http.StatusText(he.status), Error: he.msg, Now: time.Now().UTC()}
	renderPage(w, r, he.status, &d)
}

// sinceText says how long ago t was, from now.
func sinceText(now, t time.Time) string {
	if t.IsZero() {
		return "never"
	}
	d := now.Sub(t)
	if d < 0 {
		return "in " + durationText(-d.Seconds())
	}
	return durationText(d.Seconds()) + " ago"
}

// durationText writes seconds as a short duration: 850ms, 42s, 3m20s, 2h5m.
func durationText(seconds float64) string {
	d := time.Duration(seconds * float64(time.Second))
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(100 * time.Millisecond).String()
	case d < time.Hour:
		return d.Round(time.Second).String()
	}
	return d.Round(time.Minute).String()
}

// timeText writes t in UTC to the second, or "—" for none.
func timeText(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// countText writes n with thousands separators.
func countText(n any) string {
	var v int64
	switch n := n.(type) {
	case int:
		v = int64(n)
	case int64:
		v = n
	case float64:
		v = int64(math.Round(n))
	default:
		return fmt.Sprint(n)
	}
	s := strconv.FormatInt(v, 10)
	neg := v < 0
	if neg {
		s = s[1:]
	}
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}
