package main

import (
	"net/http"
	"testing"

	"github.com/rs/zerolog"
)

// TestStartDemoServesNoAdminAPI holds the demo's fake Okta to the Okta API:
// its admin API, which changes the org and injects faults, is not served.
func TestStartDemoServesNoAdminAPI(t *testing.T) {
	t.Parallel()
	url, stop, err := startDemo(zerolog.Nop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodGet, "/api/v1/users", http.StatusOK},
		{http.MethodGet, "/_fake/truth", http.StatusNotFound},
		{http.MethodGet, "/_fake/faults", http.StatusNotFound},
		{http.MethodPost, "/_fake/faults", http.StatusNotFound},
		{http.MethodPost, "/_fake/users", http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, url+tt.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "SSWS "+demoToken)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("got status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}
