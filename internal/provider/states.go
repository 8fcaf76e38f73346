package provider

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"strings"

	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// orgsMagic starts the shared store's state of several orgs.
var orgsMagic = []byte("okta-entity-provider orgs v1\n")

// marshalStates encodes the orgs' states for the shared store: the one
// org's as orgsync.Marshal does (the format a single-org database has
// always had), several as a list of each org's name and state.
func (p *Provider) marshalStates(sts []*orgsync.State) ([]byte, error) {
	if !p.multiOrg() {
		return orgsync.Marshal(sts[0])
	}
	var b bytes.Buffer
	b.Write(orgsMagic)
	b.Write(binary.AppendUvarint(nil, uint64(len(sts))))
	for i, st := range sts {
		var data []byte
		if st != nil {
			var err error
			if data, err = orgsync.Marshal(st); err != nil {
				return nil, fmt.Errorf("org %s: %w", p.orgs[i].Name, err)
			}
		}
		for _, part := range [][]byte{[]byte(p.orgs[i].Name), data} {
			b.Write(binary.AppendUvarint(nil, uint64(len(part))))
			b.Write(part)
		}
	}
	return b.Bytes(), nil
}

// unmarshalStates decodes what marshalStates wrote into the state of each
// of p's orgs, by name: an org the data does not hold (added to the
// config since) gets nil, so that its first sync is full.
func (p *Provider) unmarshalStates(data []byte) ([]*orgsync.State, error) {
	if !p.multiOrg() {
		st, err := orgsync.Unmarshal(data)
		return []*orgsync.State{st}, err
	}
	rest, ok := bytes.CutPrefix(data, orgsMagic)
	if !ok {
		return nil, errors.New("the shared sync state is not one of several orgs (it was written by a service serving one)")
	}
	next := func() ([]byte, error) {
		n, k := binary.Uvarint(rest)
		if k <= 0 || n > uint64(len(rest)-k) {
			return nil, errors.New("the shared sync state of the orgs is cut short")
		}
		part := rest[k : k+int(n)]
		rest = rest[k+int(n):]
		return part, nil
	}
	count, k := binary.Uvarint(rest)
	if k <= 0 {
		return nil, errors.New("the shared sync state of the orgs is cut short")
	}
	rest = rest[k:]
	sts := make([]*orgsync.State, len(p.orgs))
	for range count {
		name, err := next()
		if err != nil {
			return nil, err
		}
		data, err := next()
		if err != nil {
			return nil, err
		}
		i := p.orgIndex(string(name))
		if i < 0 || len(data) == 0 {
			continue // an org no longer served, or one without a state
		}
		if sts[i], err = orgsync.Unmarshal(data); err != nil {
			return nil, fmt.Errorf("org %s: %w", name, err)
		}
	}
	return sts, nil
}

// orgIndex is the index of the org named name, -1 for none.
func (p *Provider) orgIndex(name string) int {
	for i, o := range p.orgs {
		if o.Name == name {
			return i
		}
	}
	return -1
}

// adoptStates makes sts the states the orgs' next syncs start from. p.mu
// must be held.
func (p *Provider) adoptStates(sts []*orgsync.State) {
	for i, o := range p.orgs {
		o.latest = sts[i]
		o.changes = p.changeTracking(sts[i])
	}
}

// hintIDs are the ids of org i's suspects as the shared store's hints
// keep them: as they are for the one org, as name/id for an org of
// several (an Okta id has no slash).
func (p *Provider) hintIDs(i int, ids []string) []string {
	if !p.multiOrg() {
		return ids
	}
	out := make([]string, len(ids))
	for j, id := range ids {
		out[j] = p.orgs[i].Name + "/" + id
	}
	return out
}

// addHintIDs adds the suspects of the shared store's hints (see hintIDs)
// to what the next sync takes, each to its org; those of an org no longer
// served are dropped.
func (p *Provider) addHintIDs(users, groups []string) {
	by := make([]orgsync.Suspects, len(p.orgs))
	split := func(ids []string, add func(*orgsync.Suspects, string)) {
		for _, id := range ids {
			i := 0
			if p.multiOrg() {
				name, rest, ok := strings.Cut(id, "/")
				if i = p.orgIndex(name); !ok || i < 0 {
					continue
				}
				id = rest
			}
			add(&by[i], id)
		}
	}
	split(users, func(s *orgsync.Suspects, id string) { s.Users = append(s.Users, id) })
	split(groups, func(s *orgsync.Suspects, id string) { s.Groups = append(s.Groups, id) })
	for i, s := range by {
		p.requeue(i, s, nil)
	}
}
