// Package catalog turns Okta users and groups into Backstage User and Group
// entities: it names them, links memberships and the group hierarchy,
// selects what to emit, and encodes each entity as YAML or JSON.
//
// It owns the mapping: the entities and their names, the options that
// steer it (Options), the mapping report, and the encoding of one entity
// (AppendYAML, AppendJSON). Build makes every entity at once; Map leaves
// them to be made one at a time by each pass over them, for a caller that
// encodes them as they come.
//
// Transforms (Transform, in Options) shape the entities with templates
// over the Okta attributes: text/template's syntax, restricted to a fixed
// set of functions and checked at start, run by the package's own
// evaluator (template.go), and exclude users and groups by an expression.
//
// Everything here is pure: no I/O and no clock. The same input always gives
// byte-identical output, whatever the order of the input lists. It must
// not:
//
//   - import any package of this module but okta, and of okta only its
//     types: the snapshot, the provider and the API depend on it;
//   - know how entities are served: response bodies, compression, ETags,
//     shards and HTTP belong to the snapshot and api packages;
//   - know where its input comes from or when: the sync state and the
//     schedule belong to orgsync and the provider.
package catalog
