package provider

import (
	"bytes"
	"testing"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

func TestSharedStatesOfOrgs(t *testing.T) {
	t.Parallel()
	f := newMultiOrgFixture(t, "")
	cfg := syncConfig(func(c *Config) { c.Orgs = f.orgs })
	p := New(zerolog.Nop(), nil, cfg, nil)
	mustSync(t, p, "first sync")
	sts := make([]*orgsync.State, len(p.orgs))
	for i, o := range p.orgs {
		sts[i] = o.latest
	}
	data, err := p.marshalStates(sts)
	if err != nil {
		t.Fatal(err)
	}
	got, err := p.unmarshalStates(data)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sts {
		if d := sts[i].Diff(got[i]); d.Total() != 0 {
			t.Errorf("org %s: the state read back differs: %+v", p.orgs[i].Name, d)
		}
	}

	// A provider with an org more, and one fewer: the new org has no
	// state (its first sync is full), the others theirs.
	cfg2 := syncConfig(func(c *Config) { c.Orgs = []Org{f.orgs[2], {Name: "initech", Client: f.orgs[0].Client}, f.orgs[0]} })
	q := New(zerolog.Nop(), nil, cfg2, nil)
	got, err = q.unmarshalStates(data)
	if err != nil {
		t.Fatal(err)
	}
	if got[1] != nil || got[0] == nil || got[2] == nil || sts[2].Diff(got[0]).Total() != 0 || sts[0].Diff(got[2]).Total() != 0 {
		t.Errorf("by name: got twin %v, initech %v, acme %v; want twin's and acme's states and none for initech", got[0] != nil, got[1] != nil, got[2] != nil)
	}

	// Cut short, or one org's state where several are expected: an error,
	// on which the first sync is full.
	for _, bad := range [][]byte{data[:len(data)/2], data[:len(orgsMagic)+1]} {
		if _, err := p.unmarshalStates(bad); err == nil {
			t.Errorf("a state cut to %d of %d bytes was read without an error", len(bad), len(data))
		}
	}
	one, err := orgsync.Marshal(sts[0])
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.unmarshalStates(one); err == nil {
		t.Error("one org's state was read as several orgs' without an error")
	}

	// A single org keeps the state file's own format.
	single := New(zerolog.Nop(), f.orgs[0].Client, syncConfig(nil), nil)
	data1, err := single.marshalStates(sts[:1])
	if err != nil || !bytes.Equal(data1, one) {
		t.Errorf("a single org's shared state is not orgsync's format (err %v)", err)
	}
}
