package okta

import (
	"context"
	"errors"
	"iter"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// LogEvent is a System Log event, the subset the service reads (deletions
// and other lifecycle events of users and groups).
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/
type LogEvent struct {
	UUID           string      `json:"uuid"`
	Published      time.Time   `json:"published"`
	EventType      string      `json:"eventType"`
	DisplayMessage string      `json:"displayMessage,omitempty"`
	Outcome        *LogOutcome `json:"outcome,omitempty"`
	Target         []LogTarget `json:"target"`
}

// LogOutcome is the result of the action a LogEvent records.
type LogOutcome struct {
	Result string `json:"result"` // SUCCESS, FAILURE, ...
	Reason string `json:"reason,omitempty"`
}

// LogTarget is an entity a LogEvent acted on.
type LogTarget struct {
	ID          string `json:"id"`
	Type        string `json:"type"` // e.g. User, UserGroup
	DisplayName string `json:"displayName"`
	AlternateID string `json:"alternateId"`
}

// ListLogEvents returns an iterator over the System Log events published
// after since, oldest first, optionally narrowed by a SCIM filter such as
// `eventType eq "group.lifecycle.delete"`. It needs the okta.logs.read
// scope with OAuth. Okta always sends a next link when polling; the
// listing ends at the first page without events.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/SystemLog/#tag/SystemLog/operation/listLogEvents
func (c *Client) ListLogEvents(ctx context.Context, since time.Time, filter string) iter.Seq2[LogEvent, error] {
	if since.IsZero() {
		return c.listLogEvents(ctx, nil, expression{}, errors.New("okta: list log events: since is zero"))
	}
	q := url.Values{
		"since":     {FormatTime(since)},
		"limit":     {strconv.Itoa(c.opts.LogPageSize)},
		"sortOrder": {"ASCENDING"},
	}
	var ex expression
	if f := strings.TrimSpace(filter); f != "" {
		q.Set("filter", f)
		ex = expression{kind: "filter", text: f}
	}
	return c.listLogEvents(ctx, c.endpoint("/api/v1/logs", q), ex, nil)
}

func (c *Client) listLogEvents(ctx context.Context, first *url.URL, ex expression, setupErr error) iter.Seq2[LogEvent, error] {
	return listPages(ctx, c, listing[LogEvent]{
		first: first, ex: ex, what: "events", stopOnEmpty: true,
		pageSize: c.opts.LogPageSize, expected: -1, setupErr: setupErr,
	})
}
