package pgstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
)

// Record is one published generation.
type Record struct {
	// Generation numbers the publications, from 1; 0 is none yet.
	Generation int64
	// Epoch and Writer are the lease's epoch and the replica that wrote it
	// (an acceptance through a follower keeps the leader's epoch).
	Epoch       int64
	Writer      string
	PublishedAt time.Time
	// State is what the next sync resumes from; StateAt is when it was
	// last written (it is written between generations too).
	State   []byte
	StateAt time.Time
	// Snapshot is the served snapshot's encoding.
	Snapshot []byte
	// Held is the snapshot held back by the deletion guard; nil when none.
	Held *Held
}

// Held is a snapshot held back, with the state it was built from.
type Held struct {
	State, Snapshot []byte
	// Info is the provider's description of the hold.
	Info  []byte
	Since time.Time
}

// Head is the latest generation's number and who leads.
type Head struct {
	Generation  int64
	PublishedAt time.Time
	Lease       Lease
}

// Head returns the latest generation's number and the lease.
func (s *Store) Head(ctx context.Context) (h Head, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	var published, changed *time.Time
	err = s.pool.QueryRow(ctx, `
		SELECT p.generation, p.published_at, CASE WHEN l.expires_at > now() THEN l.holder ELSE '' END, l.epoch, l.changed_at
		FROM published p, leader_lease l WHERE p.id = 1 AND l.id = 1`).
		Scan(&h.Generation, &published, &h.Lease.Holder, &h.Lease.Epoch, &changed)
	if err != nil {
		return Head{}, fmt.Errorf("read the latest generation: %w", err)
	}
	if published != nil {
		h.PublishedAt = *published
	}
	if changed != nil {
		h.Lease.ChangedAt = *changed
	}
	h.Lease.Mine = h.Lease.Holder == s.opts.Replica
	return h, nil
}

// Load returns the latest generation when it is newer than after, else
// nil; nil too when nothing was ever published.
func (s *Store) Load(ctx context.Context, after int64) (r *Record, err error) {
	defer func() { s.note(err) }()
	// Bodies can be tens of megabytes: a load gets a whole lease, not half.
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.LeaseTTL, 10*time.Second))
	defer cancel()
	r = &Record{}
	var published, stateAt, heldSince *time.Time
	var heldState, heldSnap, heldInfo []byte
	err = s.pool.QueryRow(ctx, `
		SELECT generation, epoch, writer, published_at, state, state_at, snapshot,
		       held_state, held_snapshot, held_info, held_since
		FROM published WHERE id = 1 AND generation > $1 AND snapshot IS NOT NULL`, after).
		Scan(&r.Generation, &r.Epoch, &r.Writer, &published, &r.State, &stateAt, &r.Snapshot,
			&heldState, &heldSnap, &heldInfo, &heldSince)
	if isNoRows(err) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("load the latest generation: %w", err)
	}
	if published != nil {
		r.PublishedAt = *published
	}
	if stateAt != nil {
		r.StateAt = *stateAt
	}
	if heldSnap != nil {
		r.Held = &Held{State: heldState, Snapshot: heldSnap, Info: heldInfo}
		if heldSince != nil {
			r.Held.Since = *heldSince
		}
	}
	return r, nil
}

// LoadState returns the latest generation's number and the state last
// written, for a new leader to resume from; nil when none was written.
func (s *Store) LoadState(ctx context.Context) (gen int64, state []byte, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.LeaseTTL, 10*time.Second))
	defer cancel()
	err = s.pool.QueryRow(ctx, "SELECT generation, state FROM published WHERE id = 1").Scan(&gen, &state)
	if err != nil {
		return 0, nil, fmt.Errorf("load the sync state: %w", err)
	}
	return gen, state, nil
}

// Publish writes r as the generation after base (a nil State or Snapshot
// keeps the latest one's: a new hold changes neither), under the lease held at
// epoch, in one transaction that checks the lease first: its error matches
// ErrFenced when the lease is no longer held, ErrStale when base is no
// longer the latest generation. It returns the new generation's number and
// notifies the other replicas.
func (s *Store) Publish(ctx context.Context, epoch, base int64, r *Record) (gen int64, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.LeaseTTL, 10*time.Second))
	defer cancel()
	var heldState, heldSnap, heldInfo []byte
	var heldSince *time.Time
	if r.Held != nil {
		heldState, heldSnap, heldInfo, heldSince = r.Held.State, r.Held.Snapshot, r.Held.Info, &r.Held.Since
	}
	err = s.fenced(ctx, epoch, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			UPDATE published SET generation = generation + 1, epoch = $2, writer = $3, published_at = now(),
				state = coalesce($4, state), state_at = CASE WHEN $4::bytea IS NULL THEN state_at ELSE now() END,
				snapshot = coalesce($5, snapshot),
				held_state = $6, held_snapshot = $7, held_info = $8, held_since = $9
			WHERE id = 1 AND generation = $1
			RETURNING generation`,
			base, epoch, s.opts.Replica, r.State, r.Snapshot, heldState, heldSnap, heldInfo, heldSince).Scan(&gen)
		if isNoRows(err) {
			return ErrStale
		}
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", channel, strconv.FormatInt(gen, 10))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("publish generation %d: %w", base+1, err)
	}
	return gen, nil
}

// SaveState writes the state the next sync resumes from, when only it
// moved (the watermarks): the generation stays, and nobody is notified.
// It is fenced like Publish.
func (s *Store) SaveState(ctx context.Context, epoch, base int64, state []byte) (err error) {
	defer func() { s.note(err) }()
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.LeaseTTL, 10*time.Second))
	defer cancel()
	err = s.fenced(ctx, epoch, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "UPDATE published SET state = $2, state_at = now() WHERE id = 1 AND generation = $1", base, state)
		if err == nil && tag.RowsAffected() == 0 {
			return ErrStale
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("save the sync state: %w", err)
	}
	return nil
}

// fenced runs write in a transaction that first locks the lease row and
// checks that this replica holds it, unexpired, at epoch. The lock keeps
// the lease from changing hands until the transaction ends.
func (s *Store) fenced(ctx context.Context, epoch int64, write func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var holds bool
		err := tx.QueryRow(ctx, `
			SELECT holder = $1 AND epoch = $2 AND expires_at > now()
			FROM leader_lease WHERE id = 1 FOR UPDATE`, s.opts.Replica, epoch).Scan(&holds)
		if err != nil {
			return err
		}
		if !holds {
			return ErrFenced
		}
		return write(tx)
	})
}

// Accept serves the held snapshot if it is the one named etag: it becomes
// the published one, with its state, as a new generation. etagOf reads a
// held snapshot's ETag from its description (Held.Info). Any replica may
// accept, leader or not: the leader's next write finds its base stale and
// loads the accepted generation first. It returns the held snapshot's
// ETag ("" when none is held, and then no error): it was accepted exactly
// when that is etag.
func (s *Store) Accept(ctx context.Context, etag string, etagOf func(info []byte) string) (held string, gen int64, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := context.WithTimeout(ctx, max(s.opts.LeaseTTL, 10*time.Second))
	defer cancel()
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var info []byte
		err := tx.QueryRow(ctx, `
			SELECT held_info FROM published WHERE id = 1 AND held_snapshot IS NOT NULL FOR UPDATE`).Scan(&info)
		if isNoRows(err) {
			return nil
		}
		if err != nil {
			return err
		}
		if held = etagOf(info); held != etag {
			return nil
		}
		err = tx.QueryRow(ctx, `
			UPDATE published SET generation = generation + 1, writer = $1, published_at = now(),
				state = held_state, state_at = now(), snapshot = held_snapshot,
				held_state = NULL, held_snapshot = NULL, held_info = NULL, held_since = NULL
			WHERE id = 1 AND held_snapshot IS NOT NULL
			RETURNING generation`, s.opts.Replica).Scan(&gen)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "SELECT pg_notify($1, $2)", channel, strconv.FormatInt(gen, 10))
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("accept the held snapshot: %w", err)
	}
	return held, gen, nil
}

func isNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
