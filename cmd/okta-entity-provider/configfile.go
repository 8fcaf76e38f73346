package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
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

// fileMapping holds the config file's mapping and selection keys. A key
// not given leaves the option as it was.
type fileMapping struct {
	Naming struct {
		User            string            `yaml:"user"`
		Group           string            `yaml:"group"`
		Namespace       *string           `yaml:"namespace"`
		GroupNamespaces map[string]string `yaml:"groupNamespaces"`
	} `yaml:"naming"`
	Hierarchy struct {
		Key       string `yaml:"key"`
		ParentKey string `yaml:"parentKey"`
	} `yaml:"hierarchy"`
	Selection struct {
		IncludeGroupTypes  []string `yaml:"includeGroupTypes"`
		ExcludeGroupTypes  []string `yaml:"excludeGroupTypes"`
		IncludeEmptyGroups *bool    `yaml:"includeEmptyGroups"`
		UserStatuses       []string `yaml:"userStatuses"`
		UsersFromGroups    *bool    `yaml:"usersFromGroups"`
		GroupMembers       *bool    `yaml:"groupMembers"`
	} `yaml:"selection"`
	GroupTypes       map[string]string          `yaml:"groupTypes"`
	UserAnnotations  []string                   `yaml:"userAnnotations"`
	GroupAnnotations []string                   `yaml:"groupAnnotations"`
	UserMappings     []catalog.AttributeMapping `yaml:"userMappings"`
	GroupMappings    []catalog.AttributeMapping `yaml:"groupMappings"`
	Transform        struct {
		User  *catalog.Transform `yaml:"user"`
		Group *catalog.Transform `yaml:"group"`
	} `yaml:"transform"`
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

// apply sets the options f gives in o. A list or map given replaces the
// one in o whole.
func (f *fileMapping) apply(o *catalog.Options) {
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setList := func(dst *[]string, v []string) {
		if v != nil {
			*dst = v
		}
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setStr(&o.UserNaming, f.Naming.User)
	setStr(&o.GroupNaming, f.Naming.Group)
	if f.Naming.Namespace != nil {
		o.Namespace = *f.Naming.Namespace
	}
	if f.Naming.GroupNamespaces != nil {
		o.GroupNamespaces = f.Naming.GroupNamespaces
	}
	setStr(&o.HierarchyKey, f.Hierarchy.Key)
	setStr(&o.HierarchyParentKey, f.Hierarchy.ParentKey)
	setList(&o.IncludeGroupTypes, f.Selection.IncludeGroupTypes)
	setList(&o.ExcludeGroupTypes, f.Selection.ExcludeGroupTypes)
	setBool(&o.IncludeEmptyGroups, f.Selection.IncludeEmptyGroups)
	setList(&o.UserStatuses, f.Selection.UserStatuses)
	setBool(&o.UsersFromGroups, f.Selection.UsersFromGroups)
	setBool(&o.IncludeMembers, f.Selection.GroupMembers)
	if f.GroupTypes != nil {
		o.GroupTypes = f.GroupTypes
	}
	setList(&o.UserAnnotations, f.UserAnnotations)
	setList(&o.GroupAnnotations, f.GroupAnnotations)
	if f.UserMappings != nil {
		o.UserMappings = f.UserMappings
	}
	if f.GroupMappings != nil {
		o.GroupMappings = f.GroupMappings
	}
	if f.Transform.User != nil {
		o.UserTransform = *f.Transform.User
	}
	if f.Transform.Group != nil {
		o.GroupTransform = *f.Transform.Group
	}
}

// fileKey is the config file's key of a catalog.Options field. A
// transform's field is named with its key inside the transform: "UserTransform.picture" is transform.user.picture.
func fileKey(field string) string {
	field, sub, nested := strings.Cut(field, ".")
	key := field
	switch field {
	case "UserNaming":
		key = "naming.user"
	case "GroupNaming":
		key = "naming.group"
	case "Namespace":
		key = "naming.namespace"
	case "NamePrefix":
		key = "namePrefix"
	case "HierarchyKey":
		key = "hierarchy.key"
	case "HierarchyParentKey":
		key = "hierarchy.parentKey"
	case "GroupTypes":
		key = "groupTypes"
	case "IncludeGroupTypes":
		key = "selection.includeGroupTypes"
	case "ExcludeGroupTypes":
		key = "selection.excludeGroupTypes"
	case "IncludeEmptyGroups":
		key = "selection.includeEmptyGroups"
	case "UserStatuses":
		key = "selection.userStatuses"
	case "UsersFromGroups":
		key = "selection.usersFromGroups"
	case "IncludeMembers":
		key = "selection.groupMembers"
	case "UserAnnotations":
		key = "userAnnotations"
	case "GroupAnnotations":
		key = "groupAnnotations"
	case "UserMappings":
		key = "userMappings"
	case "GroupMappings":
		key = "groupMappings"
	case "GroupNamespaces":
		key = "naming.groupNamespaces"
	case "UserTransform":
		key = "transform.user"
	case "GroupTransform":
		key = "transform.group"
	case "Shape":
		key = "transform" // compiled from it at start
	}
	if nested {
		key += "." + sub
	}
	return key
}
