package oktafake

import (
	"errors"
	"testing"
	"time"

	"github.com/okta-entity-provider/okta-entity-provider/internal/okta"
)

func TestParseExpr(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string // want is the parsed tree; "" means an error
		allowNot bool
	}{
		{`status eq "ACTIVE"`, `status eq "ACTIVE"`, false},
		{`status EQ "ACTIVE"`, `status eq "ACTIVE"`, false},
		{`status eq "ACTIVE" or status eq "STAGED"`, `(status eq "ACTIVE" or status eq "STAGED")`, false},
		{`a eq "1" or b eq "2" and c eq "3"`, `(a eq "1" or (b eq "2" and c eq "3"))`, false},
		{`(a eq "1" OR b eq "2") AnD c eq "3"`, `((a eq "1" or b eq "2") and c eq "3")`, false},
		{`profile.email sw "a\"b"`, `profile.email sw "a\"b"`, false},
		{`profile.name eq "caf\u00e9 \\ x"`, `profile.name eq "café \\ x"`, false},
		{`lastUpdated gt "2024-01-02T03:04:05.000Z"`, `lastUpdated gt "2024-01-02T03:04:05.000Z"`, false},
		{`profile.mobilePhone pr`, `profile.mobilePhone pr`, false},
		{`profile.employeeId eq 42`, `profile.employeeId eq 42`, false},
		{`profile.isAdmin eq true`, `profile.isAdmin eq true`, false},
		{`not (status eq "ACTIVE")`, `not status eq "ACTIVE"`, true},
		{`not status eq "ACTIVE"`, "", false},
		{``, "", false},
		{`   `, "", false},
		{`status`, "", false},
		{`status eq`, "", false},
		{`status eq ACTIVE`, "", false},
		{`status is "ACTIVE"`, "", false},
		{`status eq "ACTIVE`, "", false},
		{`status eq "ACTIVE" and`, "", false},
		{`(status eq "ACTIVE"`, "", false},
		{`status eq "ACTIVE")`, "", false},
		{`"status" eq "ACTIVE"`, "", false},
		{`1abc eq "x"`, "", false},
		{`profile..x eq "x"`, "", false},
		{`status eq "bad \q escape"`, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := parseExpr(tt.in, tt.allowNot)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("got %s, want an error", n)
				}
				var ee *exprError
				if !errors.As(err, &ee) {
					t.Errorf("got error %T, want *exprError", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want %s", err, tt.want)
			}
			if got := n.String(); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestParseExprNestingIsBounded(t *testing.T) {
	t.Parallel()
	deep := ""
	for range 5000 {
		deep += "("
	}
	if _, err := parseExpr(deep+`a eq "1"`, false); err == nil {
		t.Fatal("got no error for 5000 nested parentheses")
	}
}

func TestCompileSchemas(t *testing.T) {
	t.Parallel()
	const date = `"2024-01-02T03:04:05.000Z"`
	tests := []struct {
		schema schema
		in     string
		ok     bool
	}{
		{userFilterSchema, `status eq "ACTIVE"`, true},
		{userFilterSchema, `lastUpdated gt ` + date + ` and lastUpdated lt ` + date, true},
		{userFilterSchema, `id eq "00u1" or profile.login eq "a@b.c"`, true},
		{userFilterSchema, `profile.email eq "a@b.c" and profile.firstName eq "A" and profile.lastName eq "B"`, true},
		{userFilterSchema, `profile.department eq "Eng"`, false},
		{userFilterSchema, `profile.email sw "a"`, false},
		{userFilterSchema, `status gt "ACTIVE"`, false},
		{userFilterSchema, `created gt ` + date, false},
		{userFilterSchema, `lastUpdated gt "yesterday"`, false},
		{userFilterSchema, `not status eq "ACTIVE"`, false},
		{userFilterSchema, `status eq 1`, false},
		{userSearchSchema, `profile.department eq "Engineering"`, true},
		{userSearchSchema, `profile.githubUsername sw "a"`, true},
		{userSearchSchema, `profile.email co "example"`, true},
		{userSearchSchema, `profile.department co "Eng"`, false},
		{userSearchSchema, `created ge ` + date + ` and not (status eq "DEPROVISIONED")`, true},
		{userSearchSchema, `type.id eq "oty1"`, true},
		{userSearchSchema, `profile.startDate gt ` + date, true},
		{userSearchSchema, `profile.title pr`, true},
		{userSearchSchema, `credentials.provider.type eq "OKTA"`, false},
		{userSearchSchema, `lastLogin gt ` + date, false},
		{groupFilterSchema, `type eq "OKTA_GROUP"`, true},
		{groupFilterSchema, `lastMembershipUpdated gt ` + date + ` or lastUpdated gt ` + date, true},
		{groupFilterSchema, `profile.name eq "x"`, false},
		{groupFilterSchema, `type sw "OKTA"`, false},
		{groupSearchSchema, `profile.name sw "eng"`, true},
		{groupSearchSchema, `profile.name co "eng" or profile.description co "team"`, true},
		{groupSearchSchema, `profile.orgId eq "org-1"`, true},
		{groupSearchSchema, `profile.orgId co "org"`, false},
		{groupSearchSchema, `source.id eq "0oa1"`, true},
		{groupSearchSchema, `objectClass eq "okta:user_group"`, false},
		{groupSearchSchema, `_embedded.stats.usersCount eq 1`, false},
		{groupSearchSchema, `_links.self eq "x"`, false},
		{logFilterSchema, `eventType eq "user.lifecycle.create" or eventType eq "group.lifecycle.delete"`, true},
		{logFilterSchema, `target.id eq "00u1" and published gt ` + date, true},
		{logFilterSchema, `client.ipAddress eq "1.2.3.4"`, false},
	}
	for _, tt := range tests {
		t.Run(tt.schema.name+": "+tt.in, func(t *testing.T) {
			_, err := compile(tt.in, tt.schema)
			if (err == nil) != tt.ok {
				t.Errorf("got error %v, want ok=%v", err, tt.ok)
			}
		})
	}
}

func TestEvalUsers(t *testing.T) {
	t.Parallel()
	ts := func(s string) int64 {
		tm, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.UnixMilli()
	}
	u := userRec{
		id: "00uABC", status: okta.StatusActive, typeID: "otyX",
		created: ts("2023-05-01T00:00:00Z"), lastUpdated: ts("2024-01-02T03:04:05Z"),
		profile: okta.UserProfile{Login: "Alice@Example.com", Email: "Alice@Example.com", FirstName: "Alice", LastName: "Müller", Department: "Engineering"},
		custom:  []attr{{"githubUsername", "alice-m"}, {"employeeId", float64(42)}, {"skills", []any{"go", "rust"}}},
	}
	tests := []struct {
		sc   schema
		in   string
		want bool
	}{
		{userFilterSchema, `status eq "ACTIVE"`, true},
		{userFilterSchema, `status eq "active"`, false},
		{userFilterSchema, `profile.login eq "alice@example.com"`, true},
		{userFilterSchema, `id eq "00uabc"`, false},
		{userFilterSchema, `lastUpdated gt "2024-01-02T03:04:04.999Z"`, true},
		{userFilterSchema, `lastUpdated gt "2024-01-02T03:04:05.000Z"`, false},
		{userFilterSchema, `lastUpdated ge "2024-01-02T03:04:05.000Z"`, true},
		{userFilterSchema, `lastUpdated lt "2024-01-02T03:04:05.000Z" or status eq "ACTIVE"`, true},
		{userFilterSchema, `lastUpdated le "2024-01-02T03:04:05.000Z" and status eq "STAGED"`, false},
		{userSearchSchema, `profile.lastName sw "mü"`, true},
		{userSearchSchema, `profile.email co "EXAMPLE"`, true},
		{userSearchSchema, `profile.department eq "engineering"`, true},
		{userSearchSchema, `profile.employeeId eq 42`, true},
		{userSearchSchema, `profile.employeeId eq 43`, false},
		{userSearchSchema, `profile.skills eq "rust"`, true},
		{userSearchSchema, `profile.title pr`, false},
		{userSearchSchema, `profile.githubUsername pr`, true},
		{userSearchSchema, `not (profile.githubUsername sw "bob")`, true},
		{userSearchSchema, `created lt "2024-01-01T00:00:00.000Z" and type.id eq "otyX"`, true},
		{userSearchSchema, `activated pr`, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			n, err := compile(tt.in, tt.sc)
			if err != nil {
				t.Fatal(err)
			}
			if got := eval(n, u.get); got != tt.want {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func FuzzParseExpr(f *testing.F) {
	for _, s := range []string{
		`status eq "ACTIVE"`,
		`(a eq "1" or b eq "2") and not c pr`,
		`lastUpdated gt "2024-01-02T03:04:05.000Z"`,
		`profile.name eq "\u00e9\"\\"`,
		`x eq 1.5e3`,
		`((((`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := parseExpr(s, true)
		if err != nil {
			return
		}
		// A parsed expression prints to a form that parses to the same tree.
		again, err := parseExpr(n.String(), true)
		if err != nil {
			t.Fatalf("%q parsed to %s, which does not parse: %v", s, n, err)
		}
		if again.String() != n.String() {
			t.Fatalf("%q: got %s after a round trip, want %s", s, again, n)
		}
		for _, sc := range []schema{userFilterSchema, userSearchSchema, groupFilterSchema, groupSearchSchema, logFilterSchema} {
			if check(n, sc) == nil {
				u := userRec{id: "00u1", status: "ACTIVE"}
				eval(n, u.get)
			}
		}
	})
}
