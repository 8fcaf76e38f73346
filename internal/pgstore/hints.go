package pgstore

import (
	"context"
	"fmt"
	"time"
)

// Bounds of the forwarded hints, so that a flood of deliveries puts little
// in the database: a hint is a sync wanted, its names a shortcut for the
// deletion check, which every sync also makes on its own schedule.
const (
	// MaxHintRows is how many forwarded hints the table holds at most; a
	// hint forwarded to a full table is dropped (the rows there ask for a
	// sync already).
	MaxHintRows = 1000
	// MaxHintTargets is how many deletion targets of each kind a row names;
	// a hint naming more is kept as a sync wanted, marked truncated.
	MaxHintTargets = 500
	// MaxHintTimes is how many events' published times a row keeps.
	MaxHintTimes = 100
)

// Hint is an event hook's hint forwarded to the leader: a sync wanted,
// the users and groups to check for deletion, and the events' published
// times (for the change-to-publish latency).
type Hint struct {
	Users, Groups []string
	Published     []time.Time
	// Truncated is set when the hint named more than a row keeps: the
	// sync is still wanted, and the deletion check catches the rest.
	Truncated bool
}

// ForwardHint stores h for the leader and notifies it. It reports false
// when the table is full and h was dropped.
func (s *Store) ForwardHint(ctx context.Context, h Hint) (stored bool, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	h = boundHint(h)
	if h.Users == nil {
		h.Users = []string{}
	}
	if h.Groups == nil {
		h.Groups = []string{}
	}
	if h.Published == nil {
		h.Published = []time.Time{}
	}
	tag, err := s.pool.Exec(ctx, `
		WITH ins AS (
			INSERT INTO hints (replica, users, groups, published, truncated)
			SELECT $1, $2, $3, $4, $5 WHERE (SELECT count(*) FROM hints) < $6
			RETURNING id)
		SELECT pg_notify($7, 'hint') FROM ins`,
		s.opts.Replica, h.Users, h.Groups, h.Published, h.Truncated, MaxHintRows, channel)
	if err != nil {
		return false, fmt.Errorf("forward an event hook's hint: %w", err)
	}
	return tag.RowsAffected() > 0, nil
}

// boundHint cuts h to what a row keeps.
func boundHint(h Hint) Hint {
	if len(h.Users) > MaxHintTargets || len(h.Groups) > MaxHintTargets {
		h.Users, h.Groups, h.Truncated = nil, nil, true
	}
	if len(h.Published) > MaxHintTimes {
		h.Published = h.Published[:MaxHintTimes]
	}
	return h
}

// DrainHints removes and returns the forwarded hints, merged into one,
// and how many there were.
func (s *Store) DrainHints(ctx context.Context) (h Hint, n int, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	rows, err := s.pool.Query(ctx, `DELETE FROM hints RETURNING users, groups, published, truncated`)
	if err != nil {
		return Hint{}, 0, fmt.Errorf("drain the forwarded hints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Hint
		if err := rows.Scan(&r.Users, &r.Groups, &r.Published, &r.Truncated); err != nil {
			return Hint{}, 0, fmt.Errorf("drain the forwarded hints: %w", err)
		}
		n++
		h.Users = append(h.Users, r.Users...)
		h.Groups = append(h.Groups, r.Groups...)
		h.Published = append(h.Published, r.Published...)
		h.Truncated = h.Truncated || r.Truncated
	}
	if err := rows.Err(); err != nil {
		return Hint{}, 0, fmt.Errorf("drain the forwarded hints: %w", err)
	}
	return h, n, nil
}
