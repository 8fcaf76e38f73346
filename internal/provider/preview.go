package provider

import (
	"context"
	"errors"
	"fmt"

	"github.com/rs/zerolog"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
	"github.com/okta-entity-provider/okta-entity-provider/internal/orgsync"
)

// ErrNoSavedUsers is returned by SavedCatalog for a saved state without
// users, which LoadState never serves.
var ErrNoSavedUsers = errors.New("the saved sync state holds no users")

// Preview lists Okta as a full sync under cfg would, within cfg.Timeout,
// and maps what it finds: the catalog a first sync under cfg would serve.
// It serves, publishes and saves nothing (cfg.StatePath is not read or
// written). The stats tell the listing's cost and its short member
// listings, on which the deletion guard would hold the snapshot back.
func Preview(ctx context.Context, log zerolog.Logger, src orgsync.Source, cfg Config) (*catalog.Result, orgsync.Stats, error) {
	if cfg.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, cfg.Timeout)
		defer cancel()
	}
	o := cfg.singleOrg(nil)
	st, stats, err := orgsync.New(src, syncOptions(&o, &cfg), log).Full(ctx)
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded) {
			return nil, stats, fmt.Errorf("the listing did not finish within %s: %w", cfg.Timeout, err)
		}
		return nil, stats, err
	}
	return catalog.Build(cfg.Catalog, CatalogInput(st)), stats, nil
}

// SavedCatalog maps the state saved at path (Config.StatePath) with opts:
// the catalog an instance that saved it serves, when opts are its
// options. It only reads the file.
func SavedCatalog(path string, opts catalog.Options) (*catalog.Result, error) {
	st, err := orgsync.Load(path)
	if err != nil {
		return nil, err
	}
	if len(st.Users()) == 0 {
		return nil, ErrNoSavedUsers
	}
	return catalog.Build(opts, CatalogInput(st)), nil
}
