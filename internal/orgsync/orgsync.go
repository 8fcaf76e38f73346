package orgsync

import (
	"context"
	"encoding/json"
	"iter"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

// Source is what a Syncer needs of the Okta client; *okta.Client
// implements it.
type Source interface {
	ListUsers(ctx context.Context, opts okta.UserListOptions) iter.Seq2[okta.User, error]
	ListGroups(ctx context.Context, opts okta.GroupListOptions) iter.Seq2[okta.Group, error]
	// ListGroupMembersExpecting lists a group's members; usersCount is
	// the group's count from expand=stats (negative when unknown), which
	// bounds how far a listing that never ends may run.
	ListGroupMembersExpecting(ctx context.Context, groupID string, usersCount int) iter.Seq2[okta.User, error]
	ListUsersChangedSince(ctx context.Context, since time.Time, opts okta.UserListOptions) iter.Seq2[okta.User, error]
	ListGroupsChangedSince(ctx context.Context, since time.Time, opts okta.GroupListOptions) iter.Seq2[okta.Group, error]
	ListLogEvents(ctx context.Context, since time.Time, filter string) iter.Seq2[okta.LogEvent, error]
	// GetUser and GetGroup read one object; one that does not exist is
	// an error okta.IsNotFound reports.
	GetUser(ctx context.Context, id string) (okta.User, error)
	GetGroup(ctx context.Context, id string) (okta.Group, error)
	ListAppUsers(ctx context.Context, appID string) iter.Seq2[okta.AppUser, error]
	ListAppGroups(ctx context.Context, appID string) iter.Seq2[okta.AppGroup, error]
	// Calls returns the number of HTTP requests sent so far.
	Calls() int64
	// Now returns the time by Okta's clock, as its latest response told.
	// The System Log position is measured by it, never by the local clock.
	Now() time.Time
}

// LogRetention is how long Okta keeps System Log events. A log position
// older than that cannot be read from without a gap: the sync is full.
const LogRetention = 90 * 24 * time.Hour

// Options selects what a Syncer copies and tunes how.
type Options struct {
	// UserFilter or UserSearch (at most one) is the admin's expression
	// narrowing the users, passed to Okta unchanged.
	UserFilter, UserSearch string
	// GroupFilter or GroupSearch (at most one) narrows the groups.
	GroupFilter, GroupSearch string
	// IncludeGroupTypes, when not empty, keeps only groups of these Okta
	// types; ExcludeGroupTypes drops groups of these types. Groups left out
	// are not kept and their members are never listed.
	IncludeGroupTypes, ExcludeGroupTypes []string
	// UsersFromGroups takes the users from the selected groups' member
	// listings instead of listing the org's users. It applies only without
	// a user expression and when Everyone is not selected; otherwise the
	// users are listed and the catalog keeps the group members among them.
	UsersFromGroups bool
	// AppIDs, when not empty, names Okta apps: the state then also holds
	// who is assigned to them (users directly or through a group, and
	// groups), for the catalog to keep only those. The users and groups
	// are listed as the other options say.
	AppIDs []string
	// AppGroupsOnly, with AppIDs, keeps only the groups assigned to the
	// apps (State.AppGroupsOnly tells the catalog).
	AppGroupsOnly bool
	// Concurrency is how many member listings run at once: default 8. The
	// client caps the requests in flight and paces each bucket on its own.
	Concurrency int
	// Overlap is how far before a watermark each incremental listing
	// starts, for Okta's eventual consistency: default 2 minutes.
	Overlap time.Duration
	// DeletionCheckEvery is how often, when the System Log cannot be read,
	// an incremental sync lists the groups to find deleted ones: every Nth
	// sync, default 10. A deleted group then stays for at most N syncs.
	DeletionCheckEvery int
	// Progress, when not nil, is kept up to date with how far each sync
	// is.
	Progress *Progress
}

func (o Options) withDefaults() Options {
	if o.Concurrency <= 0 {
		o.Concurrency = 8
	}
	if o.Overlap <= 0 {
		o.Overlap = 2 * time.Minute
	}
	if o.DeletionCheckEvery <= 0 {
		o.DeletionCheckEvery = 10
	}
	return o
}

// selection identifies the options that decide what a state holds: a state
// made under another selection cannot be updated incrementally.
func (o Options) selection() string {
	b, _ := json.Marshal(struct {
		UF, US, GF, GS string
		In, Ex         []string
		FromGroups     bool
		Apps           []string `json:",omitempty"`
		AppGroupsOnly  bool     `json:",omitempty"`
	}{o.UserFilter, o.UserSearch, o.GroupFilter, o.GroupSearch,
		slices.Sorted(slices.Values(o.IncludeGroupTypes)), slices.Sorted(slices.Values(o.ExcludeGroupTypes)),
		o.UsersFromGroups, o.appIDs(), o.AppGroupsOnly && len(o.AppIDs) > 0})
	return string(b)
}

func (o Options) userExpression() okta.UserListOptions {
	return okta.UserListOptions{Filter: o.UserFilter, Search: o.UserSearch}
}

func (o Options) groupExpression() okta.GroupListOptions {
	return okta.GroupListOptions{Filter: o.GroupFilter, Search: o.GroupSearch}
}

func (o Options) hasUserExpression() bool  { return o.UserFilter != "" || o.UserSearch != "" }
func (o Options) hasGroupExpression() bool { return o.GroupFilter != "" || o.GroupSearch != "" }

// groupTypeSelected reports whether groups of Okta type typ are kept.
func (o Options) groupTypeSelected(typ string) bool {
	if len(o.IncludeGroupTypes) > 0 && !slices.Contains(o.IncludeGroupTypes, typ) {
		return false
	}
	return !slices.Contains(o.ExcludeGroupTypes, typ)
}

// Syncer makes and updates States from one Okta org. It holds no state of
// its own between calls, so one Syncer may serve several goroutines, though
// the service runs one sync at a time.
type Syncer struct {
	src  Source
	opts Options
	log  zerolog.Logger
}

// New returns a Syncer reading from src.
func New(src Source, opts Options, log zerolog.Logger) *Syncer {
	return &Syncer{src: src, opts: opts.withDefaults(), log: log}
}

// Mode is the kind of a sync: a full listing or an incremental one.
type Mode string

// Sync modes, as reported in Stats.Mode.
const (
	ModeFull        Mode = "full"
	ModeIncremental Mode = "incremental"
)

// Stats describes one sync.
type Stats struct {
	// Mode is ModeFull or ModeIncremental.
	Mode Mode
	// Reason says why Incremental ran a full sync instead, if it did.
	Reason string
	// Calls is the number of HTTP requests sent to Okta, retries included;
	// the others split it by phase.
	Calls                                                  int64
	UserCalls, GroupCalls, MemberCalls, LogCalls, AppCalls int64
	// AppListings is the number of apps whose assignments were listed.
	AppListings int
	// MemberListings is the number of groups whose members were listed.
	MemberListings int
	// ShortListings are the member listings far shorter than their
	// group's count: the deletion guard holds a snapshot built on them.
	ShortListings []Shortfall
	// UsersChanged, GroupsChanged and the Removed counts are the objects
	// added or replaced and removed by an incremental sync (a full sync
	// reports what it found as changed).
	UsersChanged, UsersRemoved, GroupsChanged, GroupsRemoved int
	// MembershipsChanged is the number of groups whose member list changed.
	MembershipsChanged int
	// AppsChanged is the number of apps whose assignments changed.
	AppsChanged int
	// Changed reports whether the state differs from the previous one in
	// anything a catalog is built from.
	Changed bool
	// LogReadable reports whether deletions came from the System Log.
	LogReadable bool
	// LogError is why the System Log could not be read this sync although
	// the credentials may read it (a 400, a 5xx storm, a timeout, a
	// malformed body): the sync went on, with deletions from the periodic
	// check. Empty when the log was read or is not readable (403).
	LogError string
	// Confirmed is the number of suspected deletions Okta confirmed (a
	// 404) and the sync removed; Unconfirmed the suspects whose check
	// failed, which a later sync may check again.
	Confirmed   int
	Unconfirmed Suspects
	// DeletionCheck reports whether this sync listed the groups to find
	// deleted ones (the fallback when the System Log cannot be read).
	DeletionCheck bool
	// Duration is how long the sync took.
	Duration time.Duration
}

// phase measures the calls of one phase of a sync.
type phase struct {
	src   Source
	start int64
}

func (s *Syncer) phase() phase { return phase{s.src, s.src.Calls()} }

func (p phase) calls() int64 { return p.src.Calls() - p.start }
