package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestHealthcheck(t *testing.T) {
	t.Parallel()
	healthy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(healthy.Close)
	sick := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusServiceUnavailable)
	}))
	t.Cleanup(sick.Close)
	closed := httptest.NewServer(http.NotFoundHandler())
	closedAddr := closed.Listener.Addr().String()
	closed.Close()
	port := func(s *httptest.Server) string {
		return s.Listener.Addr().String()[strings.LastIndex(s.Listener.Addr().String(), ":"):]
	}

	tests := []struct {
		name    string
		args    []string
		env     map[string]string
		wantErr string // "" for success
	}{
		{"healthy by flag", []string{"-listen-addr", healthy.Listener.Addr().String()}, nil, ""},
		{"healthy by LISTEN_ADDR with no host", nil, map[string]string{"LISTEN_ADDR": port(healthy)}, ""},
		{"unhealthy", []string{"-listen-addr", sick.Listener.Addr().String()}, nil, "503 Service Unavailable"},
		{"nothing listening", []string{"-listen-addr", closedAddr}, nil, "connection refused"},
		{"bad address", []string{"-listen-addr", "8080"}, nil, `invalid LISTEN_ADDR "8080"`},
		{"stray argument", []string{"bogus"}, nil, `unexpected argument "bogus"`},
		{"help", []string{"-h"}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			err := run(context.Background(), append([]string{"healthcheck"}, tt.args...), env(tt.env), &out, &out)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("got %v, want success", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("got %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}
