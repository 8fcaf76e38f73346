package pgstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Health is the database's availability as this replica saw it on its
// last operations.
type Health struct {
	// Up is whether the last operation reached the database.
	Up bool
	// DownSince is when the current outage began; zero when up.
	DownSince time.Time
	// LastError is the error that began the current outage.
	LastError string
	// Outages counts the outages since start; LastOutage is how long the
	// last one that ended lasted.
	Outages    int
	LastOutage time.Duration
}

// health tracks Health from each operation's error.
type health struct {
	mu sync.Mutex
	h  Health
	// seen is whether any operation ran: before, the database counts as up.
	seen bool
}

// note records an operation's outcome: an error that did not come from the
// database itself (a refused, cut or timed out connection) is an outage; an
// answer, even an error answer, is not.
func (s *health) note(err error) {
	down := unavailable(err)
	now := time.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seen = true
	switch {
	case down && s.h.DownSince.IsZero():
		s.h.DownSince, s.h.LastError = now, err.Error()
		s.h.Outages++
	case !down && err == nil && !s.h.DownSince.IsZero():
		s.h.LastOutage = now.Sub(s.h.DownSince)
		s.h.DownSince, s.h.LastError = time.Time{}, ""
	}
	s.h.Up = s.h.DownSince.IsZero()
}

// unavailable reports whether err means the database could not be
// reached or could not serve: no answer at all, or an answer of the
// classes that say so (connection exception, insufficient resources,
// operator intervention such as a shutdown, system error).
func unavailable(err error) bool {
	if err == nil || errors.Is(err, ErrFenced) || errors.Is(err, ErrStale) || errors.Is(err, context.Canceled) {
		return false
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return true
	}
	switch pgErr.Code[:2] {
	case "08", "53", "57", "58":
		return true
	}
	return false
}

// Health returns the database's availability as this replica saw it.
func (s *health) Health() Health {
	s.mu.Lock()
	defer s.mu.Unlock()
	h := s.h
	if !s.seen {
		h.Up = true
	}
	return h
}
