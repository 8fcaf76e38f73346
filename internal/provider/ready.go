package provider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// NotReady says why no snapshot is served yet, with what to do about it:
// the first sync is running, or the last one failed and why. It is empty
// once a snapshot is served, and before the first sync has started.
func (p *Provider) NotReady() string {
	if p.snap.Load() != nil {
		return ""
	}
	now := p.cfg.Now()
	rates := make([]map[string]okta.RateState, len(p.orgs))
	for i, o := range p.orgs {
		rates[i] = o.Client.RateStatus()
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var b strings.Builder
	if h := p.haStatus(); h != nil && h.Role == RoleFollower {
		fmt.Fprintf(&b, "no generation served yet: waiting for the leader (%s) to publish one", orDefault(h.LeaderID, "none yet"))
		if !h.Database.Available {
			fmt.Fprintf(&b, "; the shared database is unavailable: %s (check DATABASE_URL and the database)", h.Database.Error)
		}
		return b.String()
	}
	if ls := p.lastSync; ls != nil && ls.Outcome == OutcomeFailed {
		fmt.Fprintf(&b, "the first sync has not succeeded yet: %d failed, the last at %s: %s; %s",
			p.failed, ls.FinishedAt.Format(time.RFC3339), ls.Error, p.cfg.advice(ls.err))
	}
	if p.held != nil {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		fmt.Fprintf(&b, "the first snapshot is held back by the deletion guard: %s; it is served when a sync no longer shows the problem, or review and accept it on the status page (/), or with POST /admin/accept and If-Match: %s", p.held.info.Reason, p.held.info.ETag)
	}
	for i, o := range p.orgs {
		pr := p.progressLocked(o, now, rates[i])
		if pr == nil {
			continue
		}
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		if o.Name != "" {
			b.WriteString("org " + o.Name + ": ")
		}
		b.WriteString(pr.describe())
	}
	return b.String()
}

// advice names the fix for a failed sync's error.
func (c *Config) advice(err error) string {
	var oe *okta.Error
	retries := "the service retries every " + c.setting("provider.Interval")
	switch {
	case err == nil:
		return "see the service's log"
	case errors.Is(err, ErrSyncTimeout):
		return "raise " + c.setting("provider.Timeout") + ", or narrow what is synced with the user and group filters"
	case errors.Is(err, ErrRequestTimeout):
		return "raise " + c.setting("okta.RequestTimeout") + ", or check the network to Okta"
	case errors.Is(err, context.DeadlineExceeded):
		return "raise " + c.setting("provider.Timeout") + " or " + c.setting("okta.RequestTimeout") + ", or check the network to Okta"
	case errors.As(err, &oe) && (oe.StatusCode == 401 || oe.StatusCode == 403):
		return "fix the credentials or their permissions as the error says; " + retries
	case errors.As(err, &oe) && oe.StatusCode == 400:
		return "fix the setting the error names (a filter or search expression is passed to Okta unchanged); " + retries
	case errors.Is(err, okta.ErrUnavailable):
		return "Okta cannot be reached or keeps failing: check " + c.setting("okta.OrgURL") + ", the network and Okta's status; " + retries
	}
	return retries + "; the log has the details"
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
