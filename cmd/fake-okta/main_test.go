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

	"github.com/okta-entity-provider/okta-entity-provider/internal/asynctest"
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
			base, done := startRun(ctx, t, append([]string{"fake-okta", "-addr", "127.0.0.1:0"}, tt.args...))

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

			asynctest.Stop(t, 10*time.Second, "run", cancel, done)
		})
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	for _, args := range [][]string{
		{"fake-okta", "-nope"},
		{"fake-okta", "extra"},
		{"fake-okta", "-oauth-client-id", "0oa1"},
		{"fake-okta", "-log-error", "teapot"},
		{"fake-okta", "-log-error", "200"},
		{"fake-okta", "-bad-body-rate", "2"},
	} {
		if err := run(context.Background(), args, func(string) string { return "" }, io.Discard, io.Discard); err == nil {
			t.Errorf("run %v: got nil, want an error", args)
		}
	}
}

func TestRunFlagsSetClockAndFaults(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	base, done := startRun(ctx, t, []string{"fake-okta", "-addr", "127.0.0.1:0", "-demo", "-clock-offset", "-10m", "-log-delay", "0",
		"-log-error", "400:E0000053", "-full-last-page-next", "-past-reset"})
	getJSON := func(path string, v any) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, base+path, nil)
		req.Header.Set("Authorization", "SSWS demo-token")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if v != nil {
			if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
				t.Fatalf("GET %s: decode: %v", path, err)
			}
		}
		return resp
	}

	var clock struct{ Offset, LogDelay string }
	getJSON("/_fake/clock", &clock)
	if clock.Offset != "-10m0s" || clock.LogDelay != "0s" {
		t.Errorf("clock: got %+v, want offset -10m0s and log delay 0s", clock)
	}
	resp := getJSON("/api/v1/users?limit=1", nil)
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if behind := time.Until(date); err != nil || behind > -9*time.Minute || behind < -11*time.Minute {
		t.Errorf("Date %q: want about 10 minutes behind the wall clock", resp.Header.Get("Date"))
	}
	var faults struct {
		FullLastPageNext, PastReset bool
		LogError                    struct{ Status int }
	}
	getJSON("/_fake/faults", &faults)
	if !faults.FullLastPageNext || !faults.PastReset || faults.LogError.Status != 400 {
		t.Errorf("faults: got %+v, want the flags' faults", faults)
	}
	var logErr struct{ ErrorCode string }
	if resp := getJSON("/api/v1/logs", &logErr); resp.StatusCode != 400 || logErr.ErrorCode != "E0000053" {
		t.Errorf("GET /api/v1/logs: got %d %s, want 400 E0000053", resp.StatusCode, logErr.ErrorCode)
	}

	asynctest.Stop(t, 10*time.Second, "run", cancel, done)
}

// startRun starts run with args and returns the base URL it prints once
// listening, and the channel run's result arrives on.
func startRun(ctx context.Context, t *testing.T, args []string) (string, <-chan error) {
	t.Helper()
	pr, pw := io.Pipe()
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
	select {
	case base := <-urls:
		return base, done
	case err := <-done:
		t.Fatalf("run returned before listening: %v", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no listen address printed")
	}
	return "", nil
}
