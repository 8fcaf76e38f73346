package provider

import (
	"context"
	"math/rand/v2"
	"time"
)

// Run serves the saved state, if there is one, then syncs at once and every
// interval (with jitter) until ctx is cancelled, and in between whenever an
// event hook's hint asks (see Hint): hints are coalesced, so a burst costs
// a sync or two, and the schedule runs on whatever the hints do. A failed
// sync is logged and reported; Run keeps going. It returns nil when ctx is
// cancelled.
//
// In shared mode (Config.Shared) it serves the latest generation from the
// database instead, and syncs only while this replica leads.
func (p *Provider) Run(ctx context.Context) error { return p.store.run(ctx) }

// runLocal is Run with the state file.
func (p *Provider) runLocal(ctx context.Context) error {
	p.LoadState()
	p.schedule(ctx, nil, nil)
	p.behind.Wait()
	return nil
}

// schedule syncs at once, then every interval (with jitter) and whenever
// an event hook's hint asks, until ctx ends. A signal on notify (nil for
// none) calls onNotify in between.
func (p *Provider) schedule(ctx context.Context, notify <-chan struct{}, onNotify func()) {
	p.SyncOnce(ctx)
	t := time.NewTimer(jitter(p.cfg.Interval))
	defer t.Stop()
	var lastHookSync time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			p.SyncOnce(ctx)
			t.Reset(jitter(p.cfg.Interval))
		case <-p.caughtUp:
			p.SyncOnce(ctx)
		case <-p.trigger:
			if !p.waitForHints(ctx, lastHookSync) {
				return
			}
			lastHookSync = time.Now()
			p.obs.HookSync()
			p.mu.Lock()
			p.hookSyncs++
			p.mu.Unlock()
			p.SyncOnce(ctx)
		case <-notify:
			onNotify()
		}
	}
}

// jitter returns d moved by a random amount within ±10 %.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.2-0.1)*float64(d))
}
