package backstage

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/rs/zerolog"
)

// Refresh outcomes, as counted by the Observer.
const (
	OutcomeOK         = "ok"
	OutcomeFailed     = "failed"
	OutcomeNoLocation = "no_location"
)

// Observer counts refresh attempts, for metrics.
type Observer interface {
	CatalogRefresh(outcome string)
}

// Client calls a Backstage catalog's REST API.
type Client struct {
	base   *url.URL
	token  string
	target *url.URL
	http   *http.Client
}

// NewClient returns a client of the Backstage backend at baseURL (e.g.
// https://backstage.example.com), sending token as a bearer token.
// target is the service's entities URL as the catalog's location names
// it (its query, such as ?token=, is ignored when matching).
func NewClient(baseURL, token, target string, hc *http.Client) (*Client, error) {
	base, err := parseHTTPURL(baseURL)
	if err != nil {
		return nil, fmt.Errorf("backstage URL: %w", err)
	}
	t, err := parseHTTPURL(target)
	if err != nil {
		return nil, fmt.Errorf("location target: %w", err)
	}
	if token == "" {
		return nil, errors.New("backstage token: empty; the catalog refuses calls from outside Backstage without one")
	}
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	base.Path = strings.TrimSuffix(base.Path, "/")
	return &Client{base: base, token: token, target: t, http: hc}, nil
}

func parseHTTPURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("%q: want an absolute http or https URL", raw)
	}
	return u, nil
}

// entity is the part of a Location entity the client reads.
type entity struct {
	Kind     string `json:"kind"`
	Metadata struct {
		Name      string `json:"name"`
		Namespace string `json:"namespace"`
	} `json:"metadata"`
	Spec struct {
		Target  string   `json:"target"`
		Targets []string `json:"targets"`
	} `json:"spec"`
}

// ref is the entity's ref, location:<namespace>/<name>.
func (e *entity) ref() string {
	ns := e.Metadata.Namespace
	if ns == "" {
		ns = "default"
	}
	return "location:" + ns + "/" + e.Metadata.Name
}

// maxLocationPages bounds the listing of the catalog's locations.
const maxLocationPages = 100

// Locations returns the refs of the Location entities that point at the
// service: a target (or one of the targets) equal to the service's URL
// or under it (the shards of large-org mode), compared without the query.
//
// See https://backstage.io/docs/features/software-catalog/software-catalog-api/
func (c *Client) Locations(ctx context.Context) ([]string, error) {
	q := url.Values{"filter": {"kind=location"}, "limit": {"500"},
		"fields": {"kind,metadata.name,metadata.namespace,spec.target,spec.targets"}}
	var refs []string
	for range maxLocationPages {
		var page struct {
			Items    []entity `json:"items"`
			PageInfo struct {
				NextCursor string `json:"nextCursor"`
			} `json:"pageInfo"`
		}
		if err := c.do(ctx, http.MethodGet, "/api/catalog/entities/by-query", q, nil, &page); err != nil {
			return nil, err
		}
		for i := range page.Items {
			e := &page.Items[i]
			targets := e.Spec.Targets
			if e.Spec.Target != "" {
				targets = append(targets, e.Spec.Target)
			}
			for _, t := range targets {
				if c.pointsHere(t) {
					refs = append(refs, e.ref())
					break
				}
			}
		}
		if page.PageInfo.NextCursor == "" {
			return refs, nil
		}
		q = url.Values{"cursor": {page.PageInfo.NextCursor}}
	}
	return nil, fmt.Errorf("the catalog's location listing goes on past %d pages", maxLocationPages)
}

// pointsHere reports whether a location target is the service's URL or
// under it, ignoring the query and a trailing slash. A relative target
// (the shard locations the service itself emits) is resolved against the
// service's URL, as the catalog resolves it against its parent's.
func (c *Client) pointsHere(target string) bool {
	u, err := url.Parse(target)
	if err == nil && !u.IsAbs() {
		u = c.target.ResolveReference(u)
	}
	if err != nil || !strings.EqualFold(u.Scheme, c.target.Scheme) || !strings.EqualFold(u.Host, c.target.Host) {
		return false
	}
	want := strings.TrimSuffix(c.target.Path, "/")
	got := strings.TrimSuffix(u.Path, "/")
	return got == want || strings.HasPrefix(got, want+"/")
}

// Refresh asks the catalog to reprocess the entity ref now; for a
// Location that re-reads its target.
func (c *Client) Refresh(ctx context.Context, ref string) error {
	body, _ := json.Marshal(map[string]string{"entityRef": ref})
	return c.do(ctx, http.MethodPost, "/api/catalog/refresh", nil, body, nil)
}

// do sends one request and decodes a JSON answer into out (when not nil).
func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read the answer: %w", method, path, err)
	}
	if resp.StatusCode/100 != 2 {
		return &StatusError{Method: method, Path: path, StatusCode: resp.StatusCode, Body: string(b[:min(len(b), 300)])}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

// StatusError is a catalog answer other than 2xx.
type StatusError struct {
	Method, Path string
	StatusCode   int
	Body         string
}

func (e *StatusError) Error() string {
	hint := ""
	switch e.StatusCode {
	case http.StatusUnauthorized:
		hint = ": the catalog refused the token; check that it is one of backend.auth.externalAccess's static tokens"
	case http.StatusForbidden:
		hint = ": the token's subject lacks a permission; it needs catalog.entity.read and catalog.entity.refresh"
	}
	return fmt.Sprintf("backstage: %s %s answered %d%s (%s)", e.Method, e.Path, e.StatusCode, hint, strings.TrimSpace(e.Body))
}

// Notifier asks the catalog to re-read after each changed snapshot,
// coalescing requests and retrying failures with backoff. Notify never
// blocks; Run does the work.
type Notifier struct {
	log    zerolog.Logger
	client *Client
	obs    Observer
	wake   chan struct{}

	// MinBackoff and MaxBackoff bound the wait between failed attempts;
	// defaults 1s and 5m.
	MinBackoff, MaxBackoff time.Duration

	mu     sync.Mutex
	status Status
}

// Status is what /status shows of the catalog refreshes.
type Status struct {
	// LastRefresh describes the latest attempt, null before the first.
	LastRefresh *Attempt `json:"lastRefresh"`
	// Refreshes counts attempts since start by outcome.
	Refreshes map[string]int64 `json:"refreshes"`
}

// Attempt is one attempt to make the catalog re-read.
type Attempt struct {
	At        time.Time `json:"at"`
	Outcome   string    `json:"outcome"`
	Locations []string  `json:"locations"`
	Error     string    `json:"error,omitempty"`
}

// NewNotifier returns a notifier calling through c. obs may be nil.
func NewNotifier(log zerolog.Logger, c *Client, obs Observer) *Notifier {
	if obs == nil {
		obs = nopObserver{}
	}
	return &Notifier{log: log, client: c, obs: obs, wake: make(chan struct{}, 1),
		MinBackoff: time.Second, MaxBackoff: 5 * time.Minute, status: Status{Refreshes: map[string]int64{}}}
}

// Notify asks for a refresh; calls while one is pending join it.
func (n *Notifier) Notify() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// Run refreshes on every Notify until ctx ends. A failed attempt is
// retried after a backoff that doubles up to MaxBackoff; a new Notify
// during the wait does not cut it short, so a failing catalog is not
// called more than the backoff allows.
func (n *Notifier) Run(ctx context.Context) error {
	backoff := time.Duration(0)
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-n.wake:
		}
		for {
			err := n.refresh(ctx)
			if ctx.Err() != nil {
				return nil
			}
			if err == nil {
				backoff = 0
				break
			}
			backoff = min(max(2*backoff, n.MinBackoff), n.MaxBackoff)
			wait := backoff/2 + time.Duration(rand.Int64N(int64(backoff/2)+1))
			n.log.Warn().Err(err).Dur("retryIn", wait).Msg("could not ask the Backstage catalog to re-read; the catalog still reads at its processing interval")
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return nil
			case <-t.C:
			}
			// A Notify that came during the wait is served by this retry.
			select {
			case <-n.wake:
			default:
			}
		}
	}
}

// refresh finds the locations and refreshes each.
func (n *Notifier) refresh(ctx context.Context) error {
	refs, err := n.client.Locations(ctx)
	if err == nil && len(refs) == 0 {
		n.record(OutcomeNoLocation, nil, "")
		n.log.Warn().Str("target", n.client.target.String()).
			Msg("the Backstage catalog has no Location entity whose target is this service's URL; check the location target setting against catalog.locations")
		return nil
	}
	for _, ref := range refs {
		if err != nil {
			break
		}
		err = n.client.Refresh(ctx, ref)
	}
	if err != nil {
		n.record(OutcomeFailed, refs, err.Error())
		return err
	}
	n.record(OutcomeOK, refs, "")
	n.log.Debug().Strs("locations", refs).Msg("asked the Backstage catalog to re-read")
	return nil
}

func (n *Notifier) record(outcome string, refs []string, errText string) {
	n.obs.CatalogRefresh(outcome)
	n.mu.Lock()
	defer n.mu.Unlock()
	n.status.Refreshes[outcome]++
	n.status.LastRefresh = &Attempt{At: time.Now().UTC(), Outcome: outcome, Locations: refs, Error: errText}
}

// Status returns a copy of the notifier's status.
func (n *Notifier) Status() Status {
	n.mu.Lock()
	defer n.mu.Unlock()
	st := Status{Refreshes: maps.Clone(n.status.Refreshes)}
	if n.status.LastRefresh != nil {
		a := *n.status.LastRefresh
		st.LastRefresh = &a
	}
	return st
}

type nopObserver struct{}

func (nopObserver) CatalogRefresh(string) {}
