package catalog

// ReportListLimit caps each list in a Report so the report of a huge org
// stays small; the matching *Total counts stay exact.
const ReportListLimit = 500

// Rename reasons, in Rename.Reason.
const (
	// ReasonSanitized: the naming strategy's name is not a valid Backstage
	// name; invalid characters were transliterated or replaced.
	ReasonSanitized = "sanitized"
	// ReasonTooLong: the name was over 63 characters and was cut, with a
	// suffix derived from the Okta id.
	ReasonTooLong = "too-long"
	// ReasonFallback: the strategy gave nothing usable (no email, a name of
	// symbols only, a script with no Latin transliteration); the name is
	// derived from the Okta id.
	ReasonFallback = "fallback"
	// ReasonCollision: another entity of the same kind had the same name,
	// compared case-insensitively, and took precedence; this one got a
	// suffix derived from its Okta id.
	ReasonCollision = "collision"
)

// Broken hierarchy and dropped reference reasons.
const (
	// ReasonMissingParent: the parent key names no group in the input.
	ReasonMissingParent = "missing-parent"
	// ReasonParentNotEmitted: the parent group exists but is not emitted
	// (excluded by type).
	ReasonParentNotEmitted = "parent-not-emitted"
	// ReasonSelfParent: the group names itself as parent.
	ReasonSelfParent = "self-parent"
	// ReasonCycle: the group's parent link closed a cycle and was dropped.
	ReasonCycle = "cycle"
	// ReasonDuplicateKey: another group holds the same hierarchy key and
	// owns it; this group's key is ignored.
	ReasonDuplicateKey = "duplicate-key"
	// ReasonUnknownUser: a group lists a member id that is not in the user
	// list.
	ReasonUnknownUser = "unknown-user"
	// ReasonUnknownGroup: the membership map names a group id that is not in
	// the group list.
	ReasonUnknownGroup = "unknown-group"
)

// Skipped label and annotation reasons.
const (
	// ReasonInvalidValue: nothing valid is left of the value after
	// sanitising it.
	ReasonInvalidValue = "invalid-value"
	// ReasonValueTooLong: the label value is over 63 characters.
	ReasonValueTooLong = "value-too-long"
)

// Report describes one Build: what was emitted and every place the output
// departs from the input. It is served as JSON on the status endpoint.
type Report struct {
	Users       int `json:"users"`       // User entities emitted
	Groups      int `json:"groups"`      // Group entities emitted
	Memberships int `json:"memberships"` // user-to-group links emitted

	InputUsers  int `json:"inputUsers"`
	InputGroups int `json:"inputGroups"`

	// Selection: users and groups left out on purpose, by reason.
	SkippedUsersByStatus   map[string]int `json:"skippedUsersByStatus,omitempty"`
	SkippedUsersNotInGroup int            `json:"skippedUsersNotInGroup"`
	SkippedGroupsByType    map[string]int `json:"skippedGroupsByType,omitempty"`
	SkippedEmptyGroups     int            `json:"skippedEmptyGroups"`
	// ExcludedUsers and ExcludedGroups count the users and groups a
	// transform's exclude expression left out.
	ExcludedUsers  int `json:"excludedUsers,omitempty"`
	ExcludedGroups int `json:"excludedGroups,omitempty"`
	// SkippedUsersNotAssigned and SkippedGroupsNotAssigned count those
	// left out for not being assigned to the selected Okta apps.
	SkippedUsersNotAssigned  int `json:"skippedUsersNotAssigned,omitempty"`
	SkippedGroupsNotAssigned int `json:"skippedGroupsNotAssigned,omitempty"`

	Renames      []Rename `json:"renames"`
	RenamesTotal int      `json:"renamesTotal"`

	DroppedRefs      []DroppedRef `json:"droppedRefs"`
	DroppedRefsTotal int          `json:"droppedRefsTotal"`

	BrokenHierarchy      []BrokenLink `json:"brokenHierarchy"`
	BrokenHierarchyTotal int          `json:"brokenHierarchyTotal"`

	SkippedLabels      []SkippedLabel `json:"skippedLabels"`
	SkippedLabelsTotal int            `json:"skippedLabelsTotal"`

	// Orgs has each org's counts when the catalog merges named orgs; the
	// counts above are their sums.
	Orgs []OrgReport `json:"orgs,omitempty"`
}

// OrgReport is one org's counts in a merged catalog's Report.
type OrgReport struct {
	Name        string `json:"name"`
	Users       int    `json:"users"`
	Groups      int    `json:"groups"`
	Memberships int    `json:"memberships"`
	InputUsers  int    `json:"inputUsers"`
	InputGroups int    `json:"inputGroups"`
}

// merge adds o, one org's report, to r: its counts to r's, its lists
// after r's, capped, their totals summed.
func (r *Report) merge(o *Report) {
	r.Users += o.Users
	r.Groups += o.Groups
	r.Memberships += o.Memberships
	r.InputUsers += o.InputUsers
	r.InputGroups += o.InputGroups
	r.SkippedUsersByStatus = addCounts(r.SkippedUsersByStatus, o.SkippedUsersByStatus)
	r.SkippedGroupsByType = addCounts(r.SkippedGroupsByType, o.SkippedGroupsByType)
	r.SkippedUsersNotInGroup += o.SkippedUsersNotInGroup
	r.SkippedEmptyGroups += o.SkippedEmptyGroups
	r.ExcludedUsers += o.ExcludedUsers
	r.ExcludedGroups += o.ExcludedGroups
	r.SkippedUsersNotAssigned += o.SkippedUsersNotAssigned
	r.SkippedGroupsNotAssigned += o.SkippedGroupsNotAssigned
	mergeList(&r.Renames, &r.RenamesTotal, o.Renames, o.RenamesTotal)
	mergeList(&r.DroppedRefs, &r.DroppedRefsTotal, o.DroppedRefs, o.DroppedRefsTotal)
	mergeList(&r.BrokenHierarchy, &r.BrokenHierarchyTotal, o.BrokenHierarchy, o.BrokenHierarchyTotal)
	mergeList(&r.SkippedLabels, &r.SkippedLabelsTotal, o.SkippedLabels, o.SkippedLabelsTotal)
}

func addCounts(dst, src map[string]int) map[string]int {
	for k, n := range src {
		if dst == nil {
			dst = map[string]int{}
		}
		dst[k] += n
	}
	return dst
}

// mergeList appends items (of total in all) to list, capped at
// ReportListLimit, and adds total to *listTotal. The list is never nil.
func mergeList[T any](list *[]T, listTotal *int, items []T, total int) {
	if *list == nil {
		*list = []T{}
	}
	*list = append(*list, items[:min(len(items), ReportListLimit-len(*list))]...)
	*listTotal += total
}

// Rename is an entity whose name differs from what its naming strategy
// alone (the peer's algorithm) would give.
type Rename struct {
	Kind   string `json:"kind"`
	OktaID string `json:"oktaId"`
	From   string `json:"from"`
	To     string `json:"to"`
	Reason string `json:"reason"`
	// Org is the entity's org when the catalog merges named orgs.
	Org string `json:"org,omitempty"`
}

// DroppedRef is a reference the input holds that names nothing in it.
type DroppedRef struct {
	Kind   string `json:"kind"`   // kind of the entity that would hold the ref
	OktaID string `json:"oktaId"` // Okta id of that entity
	Target string `json:"target"` // Okta id the ref points at
	Reason string `json:"reason"`
	Org    string `json:"org,omitempty"`
}

// BrokenLink is a group's parent link that was not emitted.
type BrokenLink struct {
	OktaID string `json:"oktaId"`
	Group  string `json:"group"`  // entity name of the group
	Parent string `json:"parent"` // the parent key value, or the parent's name
	Reason string `json:"reason"`
	Org    string `json:"org,omitempty"`
}

// SkippedLabel is a label (or mapped annotation, or a field a transform
// sets, named by its path such as spec.profile.picture) that could not be
// made valid and was left out.
type SkippedLabel struct {
	Kind   string `json:"kind"`
	OktaID string `json:"oktaId"`
	Key    string `json:"key"`
	Value  string `json:"value"`
	Reason string `json:"reason"`
	Org    string `json:"org,omitempty"`
}

// addCapped counts x in total and keeps it in list while the list holds
// fewer than ReportListLimit items.
func addCapped[T any](list *[]T, total *int, x T) {
	*total++
	if len(*list) < ReportListLimit {
		*list = append(*list, x)
	}
}

func (r *Report) addRename(x Rename) { addCapped(&r.Renames, &r.RenamesTotal, x) }

func (r *Report) addDroppedRef(x DroppedRef) { addCapped(&r.DroppedRefs, &r.DroppedRefsTotal, x) }

func (r *Report) addBrokenLink(x BrokenLink) {
	addCapped(&r.BrokenHierarchy, &r.BrokenHierarchyTotal, x)
}

func (r *Report) addSkippedLabel(x SkippedLabel) {
	addCapped(&r.SkippedLabels, &r.SkippedLabelsTotal, x)
}
