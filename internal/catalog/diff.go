package catalog

import (
	"cmp"
	"slices"
	"strings"
)

// EntityID identifies an entity across builds: its kind, its ref and the
// Okta object it was made from, with the object's org when the catalog
// has named orgs (an id is unique within an org only).
type EntityID struct {
	Kind   string `json:"kind"`
	Ref    string `json:"ref"`
	OktaID string `json:"oktaId"`
	Org    string `json:"org,omitempty"`
}

// IDOf returns e's EntityID.
func IDOf(e *Entity) EntityID {
	org, _ := e.Annotation(AnnotationOrg)
	return EntityID{Kind: e.Kind, Ref: e.Ref(), OktaID: e.OktaID, Org: org}
}

// Changes is what replacing one set of entities with another does to a
// catalog. Each list is sorted by kind, then ref.
type Changes struct {
	// Added and Removed are the entities of Okta objects only in the new
	// set, and only in the old one.
	Added   []EntityID `json:"added"`
	Removed []EntityID `json:"removed"`
	// Renamed are the Okta objects in both whose entity's ref changed.
	Renamed []RefChange `json:"renamed"`
}

// RefChange is an Okta object whose entity's ref changes from From to To.
// To Backstage the old ref is gone: the entity under it is orphaned and
// deleted, and a new one appears under the new ref.
type RefChange struct {
	Kind   string `json:"kind"`
	OktaID string `json:"oktaId"`
	Org    string `json:"org,omitempty"`
	From   string `json:"from"`
	To     string `json:"to"`
}

// Compare returns the changes from the entities old to the entities cur.
// Entities are paired by kind, org and Okta id, or by ref when they have no
// Okta id; refs are compared case-insensitively, as Backstage compares
// them, so a change of case alone is no rename.
func Compare(old, cur []EntityID) Changes {
	key := func(id EntityID) string {
		if id.OktaID != "" {
			return id.Kind + "\x00" + id.Org + "\x00" + id.OktaID
		}
		return id.Kind + "\x00\x00" + strings.ToLower(id.Ref)
	}
	before := make(map[string]EntityID, len(old))
	for _, id := range old {
		before[key(id)] = id
	}
	var ch Changes
	seen := make(map[string]bool, len(cur))
	for _, id := range cur {
		k := key(id)
		seen[k] = true
		prev, ok := before[k]
		switch {
		case !ok:
			ch.Added = append(ch.Added, id)
		case !strings.EqualFold(prev.Ref, id.Ref):
			ch.Renamed = append(ch.Renamed, RefChange{Kind: id.Kind, OktaID: id.OktaID, Org: id.Org, From: prev.Ref, To: id.Ref})
		}
	}
	for _, id := range old {
		if !seen[key(id)] {
			ch.Removed = append(ch.Removed, id)
		}
	}
	byRef := func(a, b EntityID) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(strings.ToLower(a.Ref), strings.ToLower(b.Ref)), cmp.Compare(a.Org, b.Org), cmp.Compare(a.OktaID, b.OktaID))
	}
	slices.SortFunc(ch.Added, byRef)
	slices.SortFunc(ch.Removed, byRef)
	slices.SortFunc(ch.Renamed, func(a, b RefChange) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(strings.ToLower(a.From), strings.ToLower(b.From)), cmp.Compare(a.Org, b.Org), cmp.Compare(a.OktaID, b.OktaID))
	})
	return ch
}
