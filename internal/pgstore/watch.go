package pgstore

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
)

// Watch signals on ch (without blocking: a signal already pending is
// enough) whenever another replica publishes a generation or releases the
// lease, and each time it (re)connects, since notifications sent while it
// was not listening are lost. It listens on a dedicated connection and
// reconnects after a failure, every retry apart, until ctx is cancelled.
// Notifications are the fast path only: the caller also polls Head.
func (s *Store) Watch(ctx context.Context, ch chan<- struct{}, retry time.Duration) {
	signal := func() {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
	for ctx.Err() == nil {
		err := s.listen(ctx, signal)
		s.note(err)
		t := time.NewTimer(retry)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
}

// listen runs one listening connection until it fails or ctx ends.
func (s *Store) listen(ctx context.Context, signal func()) error {
	cctx, cancel := s.opContext(ctx)
	conn, err := pgx.ConnectConfig(cctx, s.cfg.ConnConfig.Copy())
	cancel()
	if err != nil {
		return err
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		return err
	}
	s.note(nil)
	signal()
	for {
		// A connection cut without a word (a partition) would leave the
		// wait hanging: after a quiet while, the connection is checked.
		wctx, cancel := context.WithTimeout(ctx, 2*s.opts.LeaseTTL)
		n, err := conn.WaitForNotification(wctx)
		quiet := errors.Is(wctx.Err(), context.DeadlineExceeded)
		cancel()
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && quiet:
			pctx, cancel := s.opContext(ctx)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return err
			}
		case err != nil:
			return err
		case n.PID != conn.PgConn().PID():
			signal()
		}
	}
}
