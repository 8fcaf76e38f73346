package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/okta-entity-provider/okta-entity-provider/internal/catalog"
)

// fileConfig is the YAML config file. Unknown keys are errors, so a typo
// fails at start instead of being ignored.
type fileConfig struct {
	fileMapping `yaml:",inline"`
	// Orgs, when given, are the Okta orgs to serve, in place of the one
	// org of the OKTA_ settings (orgs.go).
	Orgs []fileOrg `yaml:"orgs"`
}

// fileOrg is one entry of the config file's orgs list: the org's
// connection and selection, and the mapping keys by which its mapping
// differs from the top-level one.
type fileOrg struct {
	Name           string      `yaml:"name"`
	URL            string      `yaml:"url"`
	TokenFile      string      `yaml:"tokenFile"`
	TokenEnv       string      `yaml:"tokenEnv"`
	ClientID       string      `yaml:"clientId"`
	PrivateKeyFile string      `yaml:"privateKeyFile"`
	PrivateKeyEnv  string      `yaml:"privateKeyEnv"`
	KeyID          string      `yaml:"keyId"`
	Scopes         []string    `yaml:"scopes"`
	Users          fileListing `yaml:"users"`
	Groups         fileListing `yaml:"groups"`
	AppIDs         []string    `yaml:"appIds"`
	AppGroupsOnly  bool        `yaml:"appGroupsOnly"`
	Namespace      *string     `yaml:"namespace"`
	NamePrefix     string      `yaml:"namePrefix"`
	fileMapping    `yaml:",inline"`
}

// fileListing is an org's Okta expression for its users or its groups.
type fileListing struct {
	Filter string `yaml:"filter"`
	Search string `yaml:"search"`
}

// fileMapping holds the config file's mapping and selection keys. Each
// key's option tag names the catalog.Options field it sets; a key not given
// leaves the option as it was, and a list or map given replaces the one in
// the options whole.
type fileMapping struct {
	Naming struct {
		User            string            `yaml:"user" option:"UserNaming"`
		Group           string            `yaml:"group" option:"GroupNaming"`
		Namespace       *string           `yaml:"namespace" option:"Namespace"`
		GroupNamespaces map[string]string `yaml:"groupNamespaces" option:"GroupNamespaces"`
	} `yaml:"naming"`
	Hierarchy struct {
		Key       string `yaml:"key" option:"HierarchyKey"`
		ParentKey string `yaml:"parentKey" option:"HierarchyParentKey"`
	} `yaml:"hierarchy"`
	Selection struct {
		IncludeGroupTypes  []string `yaml:"includeGroupTypes" option:"IncludeGroupTypes"`
		ExcludeGroupTypes  []string `yaml:"excludeGroupTypes" option:"ExcludeGroupTypes"`
		IncludeEmptyGroups *bool    `yaml:"includeEmptyGroups" option:"IncludeEmptyGroups"`
		UserStatuses       []string `yaml:"userStatuses" option:"UserStatuses"`
		UsersFromGroups    *bool    `yaml:"usersFromGroups" option:"UsersFromGroups"`
		GroupMembers       *bool    `yaml:"groupMembers" option:"IncludeMembers"`
	} `yaml:"selection"`
	GroupTypes       map[string]string          `yaml:"groupTypes" option:"GroupTypes"`
	UserAnnotations  []string                   `yaml:"userAnnotations" option:"UserAnnotations"`
	GroupAnnotations []string                   `yaml:"groupAnnotations" option:"GroupAnnotations"`
	UserMappings     []catalog.AttributeMapping `yaml:"userMappings" option:"UserMappings"`
	GroupMappings    []catalog.AttributeMapping `yaml:"groupMappings" option:"GroupMappings"`
	Transform        struct {
		User  *catalog.Transform `yaml:"user" option:"UserTransform"`
		Group *catalog.Transform `yaml:"group" option:"GroupTransform"`
	} `yaml:"transform"`
}

// fileOption is one key of fileMapping: where it is in the struct, and the
// catalog.Options field it sets.
type fileOption struct {
	key    string // dotted, e.g. naming.user
	index  []int  // in fileMapping
	option string
}

// fileOptions are fileMapping's keys, read from its tags once.
var fileOptions = tagOptions(reflect.TypeFor[fileMapping](), nil, "")

// tagOptions returns the keys of the struct t (at index in fileMapping,
// under the dotted prefix) that carry an option tag. A key must be a string,
// pointer, list or map, whose zero value means not given. A key of another
// kind, or a tag that names no catalog.Options field or one of another type,
// panics: it is a mistake in fileMapping, found by any test of the package.
func tagOptions(t reflect.Type, index []int, prefix string) []fileOption {
	var opts []fileOption
	for i := range t.NumField() {
		f := t.Field(i)
		key := prefix + f.Tag.Get("yaml")
		at := append(slices.Clone(index), i)
		name, ok := f.Tag.Lookup("option")
		if !ok {
			if f.Type.Kind() == reflect.Struct {
				opts = append(opts, tagOptions(f.Type, at, key+".")...)
			}
			continue
		}
		typ := f.Type
		switch typ.Kind() {
		case reflect.Pointer:
			typ = typ.Elem()
		case reflect.String, reflect.Slice, reflect.Map:
		default:
			panic(fmt.Sprintf("config file key %s: a %s cannot tell a key not given; make it a pointer", key, typ))
		}
		if of, ok := reflect.TypeFor[catalog.Options]().FieldByName(name); !ok || of.Type != typ {
			panic(fmt.Sprintf("config file key %s: option %s is not a catalog.Options field of type %s", key, name, typ))
		}
		opts = append(opts, fileOption{key: key, index: at, option: name})
	}
	return opts
}

var yamlUnknownField = regexp.MustCompile(`field (\S+) not found in type .*`)

// loadFile applies the config file at path to c.
func (c *config) loadFile(path string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("cannot read CONFIG_FILE: %w; point it at a readable YAML file or unset it", err)
	}
	var f fileConfig
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil && !errors.Is(err, io.EOF) {
		msgs := []string{err.Error()}
		var te *yaml.TypeError
		if errors.As(err, &te) {
			msgs = te.Errors
		}
		for i, m := range msgs {
			msgs[i] = yamlUnknownField.ReplaceAllString(strings.TrimPrefix(m, "yaml: "), "unknown key $1")
		}
		msg := strings.Join(msgs, "; ")
		return fmt.Errorf("invalid CONFIG_FILE %s: %s; fix the YAML (see docs/settings.md)", path, msg)
	}
	f.apply(&c.Catalog)
	// The orgs are resolved once the environment and the flags have set
	// the top-level values their mappings start from.
	c.fileOrgs, c.hasOrgs = f.Orgs, f.Orgs != nil
	return nil
}

// apply sets the options f gives in o: an empty string or a nil pointer,
// list or map is a key not given.
func (f *fileMapping) apply(o *catalog.Options) {
	from, to := reflect.ValueOf(f).Elem(), reflect.ValueOf(o).Elem()
	for _, fo := range fileOptions {
		v := from.FieldByIndex(fo.index)
		if v.IsZero() {
			continue
		}
		if v.Kind() == reflect.Pointer {
			v = v.Elem()
		}
		to.FieldByName(fo.option).Set(v)
	}
}

// fileKey is the config file's key of a catalog.Options field. A
// transform's field is named with its key inside the transform:
// "UserTransform.picture" is transform.user.picture.
func fileKey(field string) string {
	field, sub, nested := strings.Cut(field, ".")
	key := field
	switch field {
	case "NamePrefix":
		key = "namePrefix" // an org entry's key
	case "Shape":
		key = "transform" // compiled from it at start
	default:
		if i := slices.IndexFunc(fileOptions, func(fo fileOption) bool { return fo.option == field }); i >= 0 {
			key = fileOptions[i].key
		}
	}
	if nested {
		key += "." + sub
	}
	return key
}
