package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRunServesAndShutsDown(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		wantUsers int
	}{
		{"demo", []string{"-demo"}, 60},
		{"generated", []string{"-users", "300", "-groups", "30", "-seed", "4", "-prefix", "/okta"}, 300},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			pr, pw := io.Pipe()
			args := append([]string{"fake-okta", "-addr", "127.0.0.1:0"}, tt.args...)
			done := make(chan error, 1)
			go func() {
				done <- run(ctx, args, func(string) string { return "" }, pw, io.Discard)
				pw.Close()
			}()
			urls := make(chan string, 1)
			go func() {
				sc := bufio.NewScanner(pr)
				for sc.Scan() {
					if _, url, ok := strings.Cut(sc.Text(), "listening on "); ok {
						urls <- url
					}
				}
			}()
			var base string
			select {
			case base = <-urls:
			case err := <-done:
				t.Fatalf("run returned before listening: %v", err)
			case <-time.After(20 * time.Second):
				t.Fatal("no listen address printed")
			}

			req, _ := http.NewRequest(http.MethodGet, base+"/_fake/truth", nil)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var truth struct {
				Users int `json:"users"`
			}
			err = json.NewDecoder(resp.Body).Decode(&truth)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if truth.Users != tt.wantUsers {
				t.Errorf("got %d users, want %d", truth.Users, tt.wantUsers)
			}
			req, _ = http.NewRequest(http.MethodGet, base+"/api/v1/users?limit=1", nil)
			req.Header.Set("Authorization", "SSWS demo-token")
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("GET users with demo-token: got status %d, want 200", resp.StatusCode)
			}

			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Errorf("run after cancel: got %v, want nil", err)
				}
			case <-time.After(10 * time.Second):
				t.Fatal("run did not return after cancel")
			}
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"fake-okta", "-nope"},
		{"fake-okta", "extra"},
		{"fake-okta", "-oauth-client-id", "0oa1"},
	} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: got nil, want an error", args)
		}
	}
}
