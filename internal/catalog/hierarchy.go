package catalog

import (
	"cmp"
	"slices"
	"strings"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// hierarchyAttr reads a hierarchy attribute of g: "id" is the Okta group
// id, anything else a profile attribute, with an optional "profile."
// prefix as the peer's lodash paths have.
func hierarchyAttr(g *okta.Group, attr string) string {
	if attr == "id" {
		return g.ID
	}
	v, _ := g.Profile.Get(strings.TrimPrefix(attr, "profile."))
	return v
}

// linkHierarchy sets each selected group's parent from the hierarchy
// attributes and each group's children to match.
//
// A key held by several groups belongs to one of them: a selected group
// before an excluded one, then the earliest created, then the smallest id;
// the others are reported with ReasonDuplicateKey and cannot be parents.
// A parent value naming no group, the group itself, or a group not
// selected is dropped and reported. A cycle is broken by dropping the
// parent link of the group with the smallest Okta id in it, which does not
// depend on the order of the input, and reported.
func (b *builder) linkHierarchy() {
	parentKey := b.opts.HierarchyParentKey
	if parentKey == "" {
		return
	}
	key := b.opts.HierarchyKey

	// Index every input group by its key.
	order := make([]int32, len(b.groups))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(x, y int32) int {
		gx, gy := &b.groups[x], &b.groups[y]
		return cmp.Or(
			compareBool(!gx.emitted, !gy.emitted),
			gx.g.Created.Compare(gy.g.Created),
			strings.Compare(gx.g.ID, gy.g.ID),
		)
	})
	owner := make(map[string]int32, len(b.groups))
	for _, i := range order {
		g := &b.groups[i]
		var k string
		if key == "" {
			// The peer then matches parent values against group names.
			k = groupName(b.opts.GroupNaming, g.g).raw
		} else {
			k = hierarchyAttr(g.g, key)
		}
		if k == "" {
			continue
		}
		if _, ok := owner[k]; ok {
			if g.emitted {
				b.broken = append(b.broken, brokenLink{group: i, parent: k, reason: ReasonDuplicateKey})
			}
			continue
		}
		owner[k] = i
	}
	// broken links so far are in precedence order; keep all in id order.
	slices.SortFunc(b.broken, func(x, y brokenLink) int { return cmp.Compare(x.group, y.group) })

	for i := range b.groups {
		g := &b.groups[i]
		if !g.emitted {
			continue
		}
		pv := hierarchyAttr(g.g, parentKey)
		if pv == "" {
			continue
		}
		p, ok := owner[pv]
		switch {
		case !ok:
			b.broken = append(b.broken, brokenLink{group: int32(i), parent: pv, reason: ReasonMissingParent})
		case p == int32(i):
			b.broken = append(b.broken, brokenLink{group: int32(i), parent: pv, reason: ReasonSelfParent})
		case !b.groups[p].emitted:
			b.broken = append(b.broken, brokenLink{group: int32(i), parent: pv, reason: ReasonParentNotEmitted})
		default:
			g.parent = p
		}
	}
	b.breakCycles()
	for i := range b.groups {
		if p := b.groups[i].parent; p >= 0 {
			b.groups[p].children = append(b.groups[p].children, int32(i))
		}
	}
}

// breakCycles walks the parent links (each group has at most one parent,
// so cycles are disjoint) and cuts each cycle at its smallest id. Groups
// are sorted by id, so that is the smallest index in the cycle.
func (b *builder) breakCycles() {
	const (
		unseen = iota
		onPath
		done
	)
	state := make([]uint8, len(b.groups))
	var path []int32
	for start := range b.groups {
		if state[start] != unseen {
			continue
		}
		path = path[:0]
		x := int32(start)
		for x >= 0 && state[x] == unseen {
			state[x] = onPath
			path = append(path, x)
			x = b.groups[x].parent
		}
		if x >= 0 && state[x] == onPath {
			at := slices.Index(path, x)
			cut := slices.Min(path[at:])
			pv := hierarchyAttr(b.groups[cut].g, b.opts.HierarchyParentKey)
			b.groups[cut].parent = -1
			b.broken = append(b.broken, brokenLink{group: cut, parent: pv, reason: ReasonCycle})
		}
		for _, y := range path {
			state[y] = done
		}
	}
}
