package main

import (
	"github.com/okta-entity-provider/okta-entity-provider/internal/backstage"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// statusSource serves the provider, with /status extended by the event
// hook's and the catalog refreshes' state (null when not configured).
type statusSource struct {
	*provider.Provider
	hooks    *eventhook.Receiver
	notifier *backstage.Notifier
}

// status is the body of /status.
type status struct {
	provider.Status
	EventHook      *eventhook.Status `json:"eventHook"`
	CatalogRefresh *backstage.Status `json:"catalogRefresh"`
}

// Status returns the body of /status.
func (s *statusSource) Status() any {
	st := status{Status: s.Report()}
	if s.hooks != nil {
		h := s.hooks.Status()
		st.EventHook = &h
	}
	if s.notifier != nil {
		n := s.notifier.Status()
		st.CatalogRefresh = &n
	}
	return st
}
