package pgstore

import (
	"context"
	"fmt"
	"time"
)

// Lease is the leader's lease as one replica saw it.
type Lease struct {
	// Holder is the leading replica's id; "" when the lease has expired.
	Holder string
	// Epoch is the holder's epoch: every write of the leader checks it.
	Epoch int64
	// ChangedAt is when the lease last changed hands.
	ChangedAt time.Time
	// Mine is whether this replica holds it.
	Mine bool
}

// Campaign takes the lease when it has expired, or renews it when this
// replica holds it at epoch. A lease taken, even back by its last holder,
// gets a new epoch. It returns the lease as it stands; when another
// replica holds it, Mine is false.
func (s *Store) Campaign(ctx context.Context, epoch int64) (l Lease, err error) {
	defer func() { s.note(err) }()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	me := s.opts.Replica
	var changed *time.Time
	err = s.pool.QueryRow(ctx, `
		UPDATE leader_lease SET
			epoch      = CASE WHEN expires_at > now() THEN epoch ELSE epoch + 1 END,
			changed_at = CASE WHEN expires_at > now() THEN changed_at ELSE now() END,
			holder     = $1,
			expires_at = now() + make_interval(secs => $2)
		WHERE id = 1 AND (expires_at <= now() OR (holder = $1 AND epoch = $3))
		RETURNING holder, epoch, changed_at`,
		me, s.opts.LeaseTTL.Seconds(), epoch).Scan(&l.Holder, &l.Epoch, &changed)
	if err == nil {
		l.Mine = true
		if changed != nil {
			l.ChangedAt = *changed
		}
		return l, nil
	}
	if !isNoRows(err) {
		return Lease{}, fmt.Errorf("campaign for the lease: %w", err)
	}
	err = s.pool.QueryRow(ctx, `
		SELECT CASE WHEN expires_at > now() THEN holder ELSE '' END, epoch, changed_at
		FROM leader_lease WHERE id = 1`).Scan(&l.Holder, &l.Epoch, &changed)
	if err != nil {
		return Lease{}, fmt.Errorf("read the lease: %w", err)
	}
	if changed != nil {
		l.ChangedAt = *changed
	}
	return l, nil
}

// Release gives up the lease held at epoch, at once, and tells the other
// replicas so that one takes over without waiting for it to expire.
func (s *Store) Release(ctx context.Context, epoch int64) (err error) {
	defer func() { s.note(err) }()
	ctx, cancel := s.opContext(ctx)
	defer cancel()
	_, err = s.pool.Exec(ctx, `
		WITH released AS (
			UPDATE leader_lease SET expires_at = now()
			WHERE id = 1 AND holder = $1 AND epoch = $2 AND expires_at > now()
			RETURNING epoch)
		SELECT pg_notify($3, 'released') FROM released`, s.opts.Replica, epoch, channel)
	if err != nil {
		return fmt.Errorf("release the lease: %w", err)
	}
	return nil
}
