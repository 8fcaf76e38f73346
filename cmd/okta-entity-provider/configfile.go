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
		User  catalog.Transform `yaml:"user"`
		Group catalog.Transform `yaml:"group"`
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
	setStr(&c.Catalog.UserNaming, f.Naming.User)
	setStr(&c.Catalog.GroupNaming, f.Naming.Group)
	if f.Naming.Namespace != nil {
		c.Catalog.Namespace = *f.Naming.Namespace
	}
	if f.Naming.GroupNamespaces != nil {
		c.Catalog.GroupNamespaces = f.Naming.GroupNamespaces
	}
	setStr(&c.Catalog.HierarchyKey, f.Hierarchy.Key)
	setStr(&c.Catalog.HierarchyParentKey, f.Hierarchy.ParentKey)
	setList(&c.Catalog.IncludeGroupTypes, f.Selection.IncludeGroupTypes)
	setList(&c.Catalog.ExcludeGroupTypes, f.Selection.ExcludeGroupTypes)
	setBool(&c.Catalog.IncludeEmptyGroups, f.Selection.IncludeEmptyGroups)
	setList(&c.Catalog.UserStatuses, f.Selection.UserStatuses)
	setBool(&c.Catalog.UsersFromGroups, f.Selection.UsersFromGroups)
	setBool(&c.Catalog.IncludeMembers, f.Selection.GroupMembers)
	if f.GroupTypes != nil {
		c.Catalog.GroupTypes = f.GroupTypes
	}
	setList(&c.Catalog.UserAnnotations, f.UserAnnotations)
	setList(&c.Catalog.GroupAnnotations, f.GroupAnnotations)
	c.Catalog.UserMappings = append(c.Catalog.UserMappings, f.UserMappings...)
	c.Catalog.GroupMappings = append(c.Catalog.GroupMappings, f.GroupMappings...)
	c.Catalog.UserTransform = f.Transform.User
	c.Catalog.GroupTransform = f.Transform.Group
	return nil
}

// fileKey is the config file's key of a catalog.Options field that has no
// setting of its own. A transform's field is named with its key inside
// the transform: "UserTransform.picture" is transform.user.picture.
func fileKey(field string) string {
	field, sub, nested := strings.Cut(field, ".")
	key := field
	switch field {
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
