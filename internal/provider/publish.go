package provider

import (
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// generation is a snapshot with the state it was built from, until the
// state is saved: the served generation keeps only its snapshot, so that
// while the next snapshot is built the previous state is not held too (at
// 100,000 users its user list alone is over 40 MiB).
type generation struct {
	snap  *snapshot.Snapshot
	state *orgsync.State
}

// generationFor returns the generation for st: the served one with st as
// its state when nothing a catalog is built from changed since the served
// state (no rebuild, no re-encoding), else a new build.
func (p *Provider) generationFor(st *orgsync.State, changed bool) *generation {
	p.mu.Lock()
	base := p.served
	p.mu.Unlock()
	if !changed && base != nil {
		g := *base
		g.state = st
		return &g
	}
	return p.build(st)
}

// publish serves gen and clears any hold. p.mu must be held.
func (p *Provider) publish(gen *generation) {
	p.served = &generation{snap: gen.snap}
	p.snap.Store(gen.snap)
	if p.held != nil {
		p.held = nil
		p.obs.Held(false)
	}
	p.obs.Published(gen.snap.Users, gen.snap.Groups, gen.snap.BuiltAt)
}

// serve publishes gen and makes its state the one the next sync starts
// from. syncSlot and p.mu must be held.
func (p *Provider) serve(gen *generation, at time.Time) {
	p.publish(gen)
	p.latest = gen.state
	p.lastOK = at
}
