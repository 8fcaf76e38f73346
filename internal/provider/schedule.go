package provider

import (
	"context"
	"math/rand/v2"
	"time"
)

// Run serves the saved state, if there is one, then syncs at once and every
// interval (with jitter) until ctx is cancelled. A failed sync is logged
// and reported; Run keeps going. It returns nil when ctx is cancelled.
func (p *Provider) Run(ctx context.Context) error {
	p.LoadState()
	for {
		p.SyncOnce(ctx)
		wait := jitter(p.cfg.Interval)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// jitter returns d moved by a random amount within ±10 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}
