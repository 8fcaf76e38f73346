package catalog

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
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
