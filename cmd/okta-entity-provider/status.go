package main

import (
	"github.com/okta-entity-provider/okta-entity-provider/internal/backstage"
	"github.com/okta-entity-provider/okta-entity-provider/internal/eventhook"
	"github.com/okta-entity-provider/okta-entity-provider/internal/provider"
)

// statusSource serves the provider, with /status extended by the event
// hooks' and the catalog refreshes' state (null when not configured).
type statusSource struct {
	*provider.Provider
	// hooks is the one org's event hook; orgHooks, with several orgs,
	// each org's by its name.
	hooks    *eventhook.Receiver
	orgHooks map[string]*eventhook.Receiver
	notifier *backstage.Notifier
}

// status is the body of /status.
type status struct {
	provider.Status
	EventHook      *eventhook.Status           `json:"eventHook"`
	EventHooks     map[string]eventhook.Status `json:"eventHooks,omitempty"`
	CatalogRefresh *backstage.Status           `json:"catalogRefresh"`
}

// Status returns the body of /status.
func (s *statusSource) Status() any {
	st := status{Status: s.Report()}
	if s.hooks != nil {
		h := s.hooks.Status()
		st.EventHook = &h
	}
	if len(s.orgHooks) > 0 {
		st.EventHooks = make(map[string]eventhook.Status, len(s.orgHooks))
		for name, h := range s.orgHooks {
			st.EventHooks[name] = h.Status()
		}
	}
	if s.notifier != nil {
		n := s.notifier.Status()
		st.CatalogRefresh = &n
	}
	return st
}
