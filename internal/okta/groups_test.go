package okta

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestGroupProfileUnmarshalJSON(t *testing.T) {
	t.Parallel()
	var got GroupProfile
	in := `{"name":"Engineering","description":null,"samAccountName":"eng","dn":"CN=eng","windowsDomainQualifiedName":null}`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatalf("got error %v, want none", err)
	}
	want := GroupProfile{Name: "Engineering", Custom: AttrsOf(map[string]any{"samAccountName": "eng", "dn": "CN=eng"})}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("profile differs (-want +got):\n%s", diff)
	}
	if err := json.Unmarshal([]byte(`{"name":7}`), &got); err == nil {
		t.Errorf("number name: got no error, want one")
	}
}
