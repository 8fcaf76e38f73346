package pgtest

import (
	"context"
	"testing"

	"github.com/jackc/pgx/v5"
)

func TestStartStopStart(t *testing.T) {
	s := Start(t)
	url := s.CreateDatabase(t, "check")
	ping := func() error {
		conn, err := pgx.Connect(context.Background(), url)
		if err != nil {
			return err
		}
		defer conn.Close(context.Background())
		var one int
		return conn.QueryRow(context.Background(), "SELECT 1").Scan(&one)
	}
	if err := ping(); err != nil {
		t.Fatal(err)
	}
	if err := s.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err == nil {
		t.Fatal("got an answer from a stopped server")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	if err := ping(); err != nil {
		t.Fatalf("after a restart: %v", err)
	}
}
