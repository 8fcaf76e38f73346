package provider

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// ErrNoSavedUsers is returned by SavedCatalog for a saved state without
// users, which LoadState never serves.
var ErrNoSavedUsers = errors.New("the saved sync state holds no users")

// Preview lists Okta as a full sync under cfg would, within cfg.Timeout,
// and maps what it finds: the catalog a first sync under cfg would serve.
// With cfg.Orgs it lists every org, each with its own client, at once,
// and src is not used. It serves, publishes and saves nothing (no state
// file is read or written). The stats tell the listings' cost and their
// short member listings, on which the deletion guard would hold the
// snapshot back.
func Preview(ctx context.Context, log zerolog.Logger, src Okta, cfg Config) (*catalog.Result, orgsync.Stats, error) {
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	orgs := cfg.Orgs
	if len(orgs) == 0 {
		orgs = []Org{cfg.singleOrg(src)}
	}
	in := make([]catalog.OrgInput, len(orgs))
	stats := make([]orgsync.Stats, len(orgs))
	errs := make([]error, len(orgs))
	var wg sync.WaitGroup
	for i := range orgs {
		o := &orgs[i]
		wg.Go(func() {
			olog := log
			if o.Name != "" {
				olog = log.With().Str("org", o.Name).Logger()
			}
			var st *orgsync.State
			st, stats[i], errs[i] = orgsync.New(o.Client, syncOptions(o, &cfg), olog).Full(ctx)
			switch {
			case errs[i] != nil && ctx.Err() != nil && errors.Is(errs[i], context.DeadlineExceeded):
				errs[i] = fmt.Errorf("the listing did not finish within %s: %w", cfg.Timeout, errs[i])
			case errs[i] == nil:
				in[i] = catalog.OrgInput{Name: o.Name, Options: o.Catalog, Input: CatalogInput(st)}
			}
			if errs[i] != nil && o.Name != "" {
				errs[i] = &orgError{org: o.Name, err: errs[i]}
			}
		})
	}
	wg.Wait()
	total := orgsync.Stats{}
	for _, st := range stats {
		total.Calls += st.Calls
		total.ShortListings = append(total.ShortListings, st.ShortListings...)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, total, err
	}
	return catalog.MapOrgs(in).Result(), total, nil
}

// SavedCatalog maps the state saved at path (Config.StatePath) with opts:
// the catalog an instance that saved it serves, when opts are its
// options. It only reads the file.
func SavedCatalog(path string, opts catalog.Options) (*catalog.Result, error) {
	return SavedCatalogs([]Org{{StatePath: path, Catalog: opts}})
}

// SavedCatalogs maps the states the orgs saved at their StatePath, each
// with its Catalog options: the merged catalog an instance serving them
// serves. It only reads the files; an error names the org.
func SavedCatalogs(orgs []Org) (*catalog.Result, error) {
	in := make([]catalog.OrgInput, len(orgs))
	for i, o := range orgs {
		st, err := orgsync.Load(o.StatePath)
		if err == nil && len(st.Users()) == 0 {
			err = ErrNoSavedUsers
		}
		if err != nil {
			if o.Name != "" {
				err = &orgError{org: o.Name, err: err}
			}
			return nil, err
		}
		in[i] = catalog.OrgInput{Name: o.Name, Options: o.Catalog, Input: CatalogInput(st)}
	}
	return catalog.MapOrgs(in).Result(), nil
}
