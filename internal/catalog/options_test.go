package catalog

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// optionErrors unpacks Validate's joined error into its *OptionErrors.
func optionErrors(t *testing.T, err error) []OptionError {
	t.Helper()
	if err == nil {
		return nil
	}
	joined, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("Validate returned %T, want a joined error", err)
	}
	var out []OptionError
	for _, e := range joined.Unwrap() {
		var oe *OptionError
		if !errors.As(e, &oe) {
			t.Fatalf("Validate returned %T (%v), want *OptionError", e, e)
		}
		out = append(out, *oe)
	}
	return out
}

func TestValidateDefaultsAndZero(t *testing.T) {
	t.Parallel()
	for name, o := range map[string]Options{"defaults": DefaultOptions(), "zero": {}} {
		if err := o.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v, want nil", name, err)
		}
	}
}

// Every problem is reported, in the order of Options' fields, with the field
// and the value at fault.
func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	o := Options{
		UserNaming:         "fancy",
		GroupNaming:        "profile:",
		Namespace:          "Team_A",
		HierarchyKey:       "orgId",
		GroupTypes:         map[string]string{"TEAM": "team", "APP_GROUP": " "},
		IncludeGroupTypes:  []string{"OKTA_GROUP", "TEAMS"},
		ExcludeGroupTypes:  []string{"built_in"},
		UserStatuses:       []string{"ACTIVE", "GONE"},
		UserAnnotations:    []string{""},
		GroupMappings:      []AttributeMapping{{Attribute: "x", Annotation: AnnotationID}},
		IncludeEmptyGroups: true,
	}
	type fv struct{ Field, Value string }
	var got []fv
	for _, e := range optionErrors(t, o.Validate()) {
		if e.Problem == "" {
			t.Errorf("%s %q: empty Problem", e.Field, e.Value)
		}
		got = append(got, fv{e.Field, e.Value})
	}
	want := []fv{
		{"UserNaming", "fancy"}, {"GroupNaming", "profile:"}, {"Namespace", "Team_A"},
		{"HierarchyKey", "orgId"}, {"GroupTypes", "APP_GROUP"}, {"GroupTypes", "TEAM"},
		{"IncludeGroupTypes", "TEAMS"}, {"ExcludeGroupTypes", "built_in"}, {"UserStatuses", "GONE"},
		{"UserAnnotations", ""}, {"GroupMappings", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Validate problems (-want +got):\n%s", diff)
	}
}

func TestOptionErrorText(t *testing.T) {
	t.Parallel()
	err := (&Options{UserStatuses: []string{"GONE"}}).Validate()
	want := `UserStatuses "GONE": unknown Okta user status; use STAGED, PROVISIONED, ACTIVE, RECOVERY, LOCKED_OUT, PASSWORD_EXPIRED, SUSPENDED, DEPROVISIONED`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v,\nwant %s", err, want)
	}
	err = (&Options{GroupMappings: []AttributeMapping{{Attribute: "x", Label: "a/b/c"}}}).Validate()
	want = `GroupMappings: mapping of "x": key "a/b/c" is not a valid Backstage key (optional dns-prefix/ then a name of letters, digits, - _ . up to 63)`
	if err == nil || err.Error() != want {
		t.Errorf("Validate() = %v,\nwant %s", err, want)
	}
}

// NamePrefix must be able to start a Backstage name and leave most of its
// 63 characters to the name; a bad one is reported against the field.
func TestValidateNamePrefix(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		prefix string
		ok     bool
	}{
		{"", true},
		{"globex-", true},
		{"a", true},
		{"0.", true},
		{"x_y.z-", true},
		{"acme--", true},
		{"abcdefghij0123456789", true},   // 20 characters
		{"abcdefghij0123456789-", false}, // 21
		{"Globex-", false},
		{"globeX", false},
		{"-globex", false},
		{"_globex", false},
		{".globex", false},
		{"glo bex", false},
		{"globex/", false},
		{"globex:", false},
		{"glöbex-", false},
	} {
		t.Run(c.prefix, func(t *testing.T) {
			t.Parallel()
			err := Options{NamePrefix: c.prefix}.Validate()
			errs := optionErrors(t, err)
			if c.ok {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			want := []OptionError{{Field: "NamePrefix", Value: c.prefix}}
			if diff := cmp.Diff(want, errs, cmpopts.IgnoreFields(OptionError{}, "Problem")); diff != "" {
				t.Errorf("Validate problems (-want +got):\n%s", diff)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, `NamePrefix "`+c.prefix+`": `) || !strings.Contains(msg, "at most 20 characters") {
				t.Errorf("Validate() = %q, want it to name NamePrefix, the value and the limit", msg)
			}
		})
	}
}
