package provider

import (
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
	"github.com/okta-entity-provider/okta-entity-provider/internal/snapshot"
)

// generation is a snapshot with the states it was built from, one per
// org in the orgs' order, until they are saved: the served generation
// keeps only its snapshot, so that while the next snapshot is built the
// previous states are not held too (at 100,000 users a user list alone is
// over 40 MiB).
type generation struct {
	snap   *snapshot.Snapshot
	states []*orgsync.State
}

// generationFor returns the generation for sts: the served one with sts
// as its states when nothing a catalog is built from changed since the
// served states (no rebuild, no re-encoding), else a new build.
func (p *Provider) generationFor(sts []*orgsync.State, changed bool) *generation {
	p.mu.Lock()
	base := p.served
	p.mu.Unlock()
	if !changed && base != nil {
		g := *base
		g.states = sts
		return &g
	}
	return p.build(sts)
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

// serve publishes gen and makes its states the ones the next sync starts
// from. syncSlot and p.mu must be held.
func (p *Provider) serve(gen *generation, at time.Time) {
	p.publish(gen)
	for i, o := range p.orgs {
		o.latest = gen.states[i]
	}
	p.lastOK = at
}
