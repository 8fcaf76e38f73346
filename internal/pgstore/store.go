package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// channel is the LISTEN/NOTIFY channel of generations and lease releases.
const channel = "okta_entity_provider"

// ErrFenced is matched by the error of a write made under a lease that is
// no longer held: another replica leads (or may), and the writer must
// step down.
var ErrFenced = errors.New("the lease is no longer held")

// ErrStale is matched by the error of a publication based on a generation
// that is no longer the latest (a held snapshot was accepted through
// another replica meanwhile): the writer must load the latest first.
var ErrStale = errors.New("the generation written from is no longer the latest")

// Options configures a Store.
type Options struct {
	// Replica is this replica's id, unique among the replicas.
	Replica string
	// LeaseTTL is how long a lease lasts unless renewed. Default 10s.
	LeaseTTL time.Duration
}

// Store is the shared store on one PostgreSQL database. Its methods are
// safe for concurrent use.
type Store struct {
	pool *pgxpool.Pool
	cfg  *pgxpool.Config
	opts Options
	health
}

// Open returns a store for the database at url. It does not connect: the
// database may be down when a replica starts, and every method connects
// as it needs to.
func Open(url string, opts Options) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL connection URL: %w", err)
	}
	if opts.Replica == "" {
		return nil, errors.New("a replica id is needed")
	}
	if opts.LeaseTTL <= 0 {
		opts.LeaseTTL = 10 * time.Second
	}
	cfg.MaxConns = 4
	cfg.ConnConfig.ConnectTimeout = min(5*time.Second, opts.LeaseTTL/2)
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = "okta-entity-provider " + opts.Replica
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		return nil, fmt.Errorf("invalid PostgreSQL connection URL: %w", err)
	}
	return &Store{pool: pool, cfg: cfg, opts: opts}, nil
}

// Close closes the store's connections.
func (s *Store) Close() { s.pool.Close() }

// Replica returns this replica's id.
func (s *Store) Replica() string { return s.opts.Replica }

// LeaseTTL returns how long a lease lasts unless renewed.
func (s *Store) LeaseTTL() time.Duration { return s.opts.LeaseTTL }

// opContext bounds one database operation: an operation that hangs on a
// cut connection must end well within a lease, or a leader would keep
// believing it leads.
func (s *Store) opContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, max(s.opts.LeaseTTL/2, time.Second))
}
