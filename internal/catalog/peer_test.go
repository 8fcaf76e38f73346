package catalog

import (
	"encoding/json"
	"os"
	"testing"
)

// peerCase is one line of testdata/peer/names.json: what the peer's naming
// strategies give for an input, recorded with the npm packages the peer
// uses (see testdata/peer/gen.js). A nil pointer means the peer throws.
type peerCase struct {
	Input            string  `json:"input"`
	KebabCase        string  `json:"kebabCase"`
	StripDomainEmail *string `json:"stripDomainEmail"`
	SlugifyEmail     *string `json:"slugifyEmail"`
}

func loadPeerCases(t testing.TB) []peerCase {
	t.Helper()
	b, err := os.ReadFile("testdata/peer/names.json")
	if err != nil {
		t.Fatal(err)
	}
	var cases []peerCase
	if err := json.Unmarshal(b, &cases); err != nil {
		t.Fatal(err)
	}
	return cases
}

func TestKebabCaseMatchesRecordedPeer(t *testing.T) {
	t.Parallel()
	for _, c := range loadPeerCases(t) {
		raw, clean := kebabCase(c.Input)
		if raw != c.KebabCase {
			t.Errorf("kebabCase(%q) raw: got %q, want %q", c.Input, raw, c.KebabCase)
		}
		if ValidName(c.KebabCase) && clean != c.KebabCase {
			t.Errorf("kebabCase(%q) clean: got %q, want %q", c.Input, clean, c.KebabCase)
		}
	}
}

func TestSlugifyEmailMatchesRecordedPeer(t *testing.T) {
	t.Parallel()
	for _, c := range loadPeerCases(t) {
		if c.SlugifyEmail == nil {
			continue
		}
		got := slugifyEmail(c.Input)
		if ValidName(*c.SlugifyEmail) && got != *c.SlugifyEmail {
			t.Errorf("slugifyEmail(%q): got %q, want %q", c.Input, got, *c.SlugifyEmail)
		}
	}
}
