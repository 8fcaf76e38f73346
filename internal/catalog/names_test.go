package catalog

import (
	"strings"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestUserName(t *testing.T) {
	t.Parallel()
	user := func(email, login string) *okta.User {
		return &okta.User{ID: "00uTEST1", Profile: okta.UserProfile{Email: email, Login: login}}
	}
	long := strings.Repeat("abcdefghij", 7) + "@example.com"
	tests := []struct {
		name     string
		strategy string
		u        *okta.User
		want     string
		reason   string
	}{
		{"strip keeps case", UserNamingStripDomainEmail, user("John.Doe@Example.com", ""), "John.Doe", ""},
		{"default is strip", "", user("John.Doe@Example.com", ""), "John.Doe", ""},
		{"kebab email", UserNamingKebabCaseEmail, user("John.Doe@Example.com", ""), "john-doe-example-com", ""},
		{"slugify email", UserNamingSlugifyEmail, user("John.Doe+x@Example.com", ""), "john.doex-example.com", ""},
		{"id", UserNamingID, user("a@b.c", ""), "00uTEST1", ""},
		{"plus replaced", UserNamingStripDomainEmail, user("jane+ops@example.com", ""), "jane-ops", ReasonSanitized},
		{"accents transliterated", UserNamingStripDomainEmail, user("Zoë.Ørsted@example.com", ""), "Zoe.Orsted", ReasonSanitized},
		{"special letters", UserNamingStripDomainEmail, user("straße.æsir.łódź.đorđe@example.com", ""), "strasse.aesir.lodz.dorde", ReasonSanitized},
		{"cyrillic spelled", UserNamingStripDomainEmail, user("иван@example.ru", ""), "ivan", ReasonSanitized},
		{"leading and trailing separators trimmed", UserNamingStripDomainEmail, user("-._x_.-@example.com", ""), "x", ReasonSanitized},
		{"separator runs collapse", UserNamingStripDomainEmail, user("a..b&&c@example.com", ""), "a-b-c", ReasonSanitized},
		{"no email uses the login", UserNamingStripDomainEmail, user("", "jdoe@example.com"), "jdoe", ReasonFallback},
		{"no email, login without @", UserNamingStripDomainEmail, user("", "jdoe"), "jdoe", ReasonFallback},
		{"no email, kebab of login", UserNamingKebabCaseEmail, user("", "J.Doe@x.com"), "j-doe-x-com", ReasonFallback},
		{"cjk falls back to the id", UserNamingStripDomainEmail, user("山田太郎@example.jp", ""), "00uTEST1", ReasonFallback},
		{"cjk kebab falls back to the id, lower case", UserNamingKebabCaseEmail, user("山田太郎@example.jp", ""), "00utest1", ReasonFallback},
		{"nothing usable", UserNamingStripDomainEmail, user("***@example.com", ""), "00uTEST1", ReasonFallback},
		{"too long", UserNamingStripDomainEmail, user(long, ""), strings.Repeat("abcdefghij", 5) + "abcdef" + idSuffix("00uTEST1"), ReasonTooLong},
		{"profile attribute", "profile:nickName", &okta.User{ID: "00u1", Profile: okta.UserProfile{NickName: "The Nick"}}, "The-Nick", ReasonSanitized},
		{"profile attribute missing", "profile:nickName", &okta.User{ID: "00u1"}, "00u1", ReasonFallback},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := userName(tt.strategy, tt.u)
			if n.name != tt.want || n.reason != tt.reason {
				t.Errorf("got %q (%q), want %q (%q)", n.name, n.reason, tt.want, tt.reason)
			}
			if !ValidName(n.name) {
				t.Errorf("%q is not a valid name", n.name)
			}
		})
	}
}

func TestGroupName(t *testing.T) {
	t.Parallel()
	group := func(name string) *okta.Group {
		return &okta.Group{ID: "00gTEST1", Profile: okta.GroupProfile{Name: name}}
	}
	tests := []struct {
		name     string
		strategy string
		g        *okta.Group
		want     string
		reason   string
	}{
		{"kebab", GroupNamingKebabCaseName, group("R&D / EMEA"), "r-d-emea", ""},
		{"default is kebab", "", group("Platform Team"), "platform-team", ""},
		{"kebab camel case", GroupNamingKebabCaseName, group("XMLHttpRequest Devs"), "xml-http-request-devs", ""},
		{"kebab accents", GroupNamingKebabCaseName, group("Ünïcödé Grüppe"), "unicode-gruppe", ""},
		{"kebab symbols only", GroupNamingKebabCaseName, group("***"), "00gtest1", ReasonFallback},
		{"kebab greek", GroupNamingKebabCaseName, group("Ομάδα"), "omada", ReasonSanitized},
		{"kebab emoji dropped", GroupNamingKebabCaseName, group("Rocket 🚀 Team"), "rocket-team", ReasonSanitized},
		{"profile name as is", GroupNamingProfileName, group("Platform_Team.EU"), "Platform_Team.EU", ""},
		{"profile name sanitised", GroupNamingProfileName, group("Sales & Marketing (EMEA)"), "Sales-Marketing-EMEA", ReasonSanitized},
		{"profile name symbols", GroupNamingProfileName, group("***"), "00gTEST1", ReasonFallback},
		{"id", GroupNamingID, group("x"), "00gTEST1", ""},
		{"profile attribute number", "profile:orgId", &okta.Group{ID: "00g1", Profile: okta.GroupProfile{Custom: okta.AttrsOf(map[string]any{"orgId": float64(42)})}}, "42", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := groupName(tt.strategy, tt.g)
			if n.name != tt.want || n.reason != tt.reason {
				t.Errorf("got %q (%q), want %q (%q)", n.name, n.reason, tt.want, tt.reason)
			}
		})
	}
}

func TestIDSuffixIsStable(t *testing.T) {
	t.Parallel()
	// A change here renames entities in every catalog: keep it fixed.
	if got, want := idSuffix("00u1abcdEFGH"), idSuffix("00u1abcdEFGH"); got != want || len(got) != suffixLen {
		t.Fatalf("idSuffix: got %q and %q", got, want)
	}
	if got, want := idSuffix("00g04"), "-tkzif2"; got != want {
		t.Errorf("idSuffix(00g04): got %q, want %q", got, want)
	}
	if idSuffix("a") == idSuffix("b") || hashSuffix("a", 0) == hashSuffix("a", 1) {
		t.Error("suffixes of different inputs are equal")
	}
}

func TestCollisionsResolveByCreatedThenID(t *testing.T) {
	t.Parallel()
	at := func(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC) }
	u := func(id, email string, created time.Time) okta.User {
		return okta.User{ID: id, Status: okta.StatusActive, Created: created, Profile: okta.UserProfile{Email: email, Login: email}}
	}
	in := Input{Users: []okta.User{
		u("00u3", "Bob@a.com", at(2020)),
		u("00u1", "bob@b.com", at(2021)),
		u("00u2", "BOB@c.com", at(2020)),   // same created as 00u3: the smaller id wins
		u("00u4", "bob+x@d.com", at(2000)), // sanitised to bob-x, no collision
		u("00u5", "bob@e.com", at(1990)),   // earliest of all... but see below
	}}
	// The earliest created wins among exact names: 00u5.
	res := Build(DefaultOptions(), in)
	names := namesByID(res)
	if names["00u5"] != "bob" {
		t.Errorf("00u5 (earliest): got %q, want bob", names["00u5"])
	}
	for id, base := range map[string]string{"00u1": "bob", "00u2": "BOB", "00u3": "Bob"} {
		if want := base + idSuffix(id); names[id] != want {
			t.Errorf("%s: got %q, want %q", id, names[id], want)
		}
	}
	if names["00u4"] != "bob-x" {
		t.Errorf("00u4: got %q, want bob-x", names["00u4"])
	}
	if got := res.Report.RenamesTotal; got != 4 {
		t.Errorf("renames: got %d, want 4: %+v", got, res.Report.Renames)
	}
}

func TestExactNameBeatsSanitisedName(t *testing.T) {
	t.Parallel()
	old := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)
	in := Input{Users: []okta.User{
		{ID: "00u1", Status: okta.StatusActive, Created: old, Profile: okta.UserProfile{Email: "jane+x@a.com"}},                  // sanitised to jane-x
		{ID: "00u2", Status: okta.StatusActive, Created: old.AddDate(5, 0, 0), Profile: okta.UserProfile{Email: "jane-x@b.com"}}, // exact jane-x
	}}
	res := Build(DefaultOptions(), in)
	got := namesByID(res)
	if got["00u2"] != "jane-x" {
		t.Errorf("exact name: got %q, want jane-x", got["00u2"])
	}
	if got["00u1"] != "jane-x"+idSuffix("00u1") {
		t.Errorf("sanitised name: got %q, want %q", got["00u1"], "jane-x"+idSuffix("00u1"))
	}
}

func TestSuffixedNameAvoidsTakenNames(t *testing.T) {
	t.Parallel()
	// 00u2 loses "x" to 00u1; the name it would get is already someone's.
	taken := "x" + idSuffix("00u2")
	in := Input{Users: []okta.User{
		{ID: "00u1", Status: okta.StatusActive, Profile: okta.UserProfile{Email: "x@a.com"}},
		{ID: "00u2", Status: okta.StatusActive, Profile: okta.UserProfile{Email: "x@b.com"}},
		{ID: "00u3", Status: okta.StatusActive, Profile: okta.UserProfile{Email: taken + "@c.com"}},
	}}
	res := Build(DefaultOptions(), in)
	got := namesByID(res)
	want := map[string]string{"00u1": "x", "00u2": "x" + hashSuffix("00u2", 1), "00u3": taken}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %q, want %q", id, got[id], w)
		}
	}
}

func TestSanitize(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in    string
		lower bool
		want  string
	}{
		{"abc", false, "abc"},
		{"A.B_C-D", false, "A.B_C-D"},
		{"A.B_C-D", true, "a.b_c-d"},
		{"a  b", false, "a-b"},
		{"a - b", false, "a-b"},
		{"a.-b", false, "a-b"},
		{"...", false, ""},
		{"ﬁle", false, "file"},
		{"Ａ１", false, "A1"},
		{"e\u0301", false, "e"},
		{"x½y", false, "x-y"},
		{"日本", false, ""},
		{"ok 日本", false, ""},
		{"\u212Aelvin", true, "kelvin"},
		{"\xff\xfe", false, ""},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in, tt.lower); got != tt.want {
			t.Errorf("sanitize(%q, %v): got %q, want %q", tt.in, tt.lower, got, tt.want)
		}
	}
}

// FuzzNames holds every strategy to a valid, deterministic name for any
// input, and to the strategy's own name whenever that is valid.
func FuzzNames(f *testing.F) {
	for _, s := range []string{
		"John.Doe@Example.com", "R&D / EMEA", "***", "", "jane+x@example.com", "山田太郎@example.jp",
		"Zoë.Ørsted@exämple.com", strings.Repeat("a", 100), "-._-", "a@b@c", "\xff@\xfe", "ŉ'’",
		"XMLHttpRequest 21st 11th", "\u212A", "Ομάδα", "Команда", "🚀", "a\u0301", "ﬁ",
	} {
		f.Add(s, "00uSEED")
	}
	f.Fuzz(func(t *testing.T, s, id string) {
		u := &okta.User{ID: id, Profile: okta.UserProfile{Email: s, Login: s, NickName: s}}
		g := &okta.Group{ID: id, Profile: okta.GroupProfile{Name: s}}
		var got []naming
		for _, st := range []string{UserNamingID, UserNamingKebabCaseEmail, UserNamingStripDomainEmail, UserNamingSlugifyEmail, "profile:nickName"} {
			n := userName(st, u)
			if again := userName(st, u); again != n {
				t.Fatalf("user %s: %+v then %+v", st, n, again)
			}
			got = append(got, n)
		}
		for _, st := range []string{GroupNamingID, GroupNamingKebabCaseName, GroupNamingProfileName} {
			n := groupName(st, g)
			if again := groupName(st, g); again != n {
				t.Fatalf("group %s: %+v then %+v", st, n, again)
			}
			got = append(got, n)
		}
		for _, n := range got {
			if !bsValidName(n.name) {
				t.Fatalf("%q, %q: invalid name %q (%+v)", s, id, n.name, n)
			}
			if n.reason == "" && n.name != n.raw {
				t.Fatalf("%q: name %q differs from the strategy's %q without a reason", s, n.name, n.raw)
			}
			if bsValidName(n.raw) && n.raw != "" && n.name != n.raw && n.reason != ReasonFallback {
				t.Fatalf("%q: the strategy's valid name %q became %q (%s)", s, n.raw, n.name, n.reason)
			}
		}
		if k := got[1]; k.name != strings.ToLower(k.name) {
			t.Fatalf("kebab-case name %q is not lower case", k.name)
		}
	})
}

// namesByID maps each built entity's Okta id to its name.
func namesByID(res *Result) map[string]string {
	names := make(map[string]string, len(res.Entities))
	for _, e := range res.Entities {
		names[e.OktaID] = e.Metadata.Name
	}
	return names
}
