package main

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/rs/zerolog"
)

// readSecretFile reads a token or key file; what says what it should hold.
func readSecretFile(name, path, what string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("cannot read %s: %w; point it at a readable file holding %s", name, err, what)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return "", fmt.Errorf("%s %s is empty: put %s in it", name, path, what)
	}
	return s, nil
}

// logDict returns the configuration for the start-up log, secrets masked.
func (c *config) logDict() *zerolog.Event {
	d := zerolog.Dict()
	for _, s := range c.settings() {
		d.Str(s.env, s.shown(s.value.String()))
	}
	d.Int("userMappings", len(c.Catalog.UserMappings)).Int("groupMappings", len(c.Catalog.GroupMappings))
	d.Int("groupNamespaces", len(c.Catalog.GroupNamespaces)).Bool("transforms", c.Catalog.Shape != nil)
	if len(c.Orgs) > 0 {
		d.Array("orgs", c.orgsLog())
	}
	return d
}

// redactor is a value whose text may hold a secret in part: redact returns
// the text fit for messages and logs.
type redactor interface {
	redact(s string) string
}

// shown returns a setting's text as messages and logs may show it: "***"
// for a secret, the redacted text for a value that may hold one.
func (s *setting) shown(v string) string {
	switch r, ok := s.value.(redactor); {
	case s.secret && v != "":
		return "***"
	case ok:
		return r.redact(v)
	}
	return v
}

// redact drops the credentials of a URL and hides its query and fragment,
// where a token might be. A URL that does not parse is hidden whole when it
// could hold credentials, since where they end cannot be told.
func (urlValue) redact(s string) string {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil {
		if strings.ContainsAny(s, "@?#") {
			return "***"
		}
		return s
	}
	u.User = nil
	if u.RawQuery != "" || u.ForceQuery {
		u.RawQuery, u.ForceQuery = "REDACTED", false
	}
	if u.Fragment != "" {
		u.Fragment, u.RawFragment = "REDACTED", ""
	}
	return u.String()
}

// readSecrets checks the OAuth key settings and reads the token and key
// files into Token and PrivateKey.
func (c *config) readSecrets() error {
	if c.TokenFile != "" {
		t, err := readSecretFile("OKTA_TOKEN_FILE", c.TokenFile, "the API token")
		if err != nil {
			return err
		}
		c.Token = t
	}
	if c.ClientID != "" {
		switch {
		case c.PrivateKey != "" && c.PrivateKeyFile != "":
			return errors.New("OKTA_PRIVATE_KEY and OKTA_PRIVATE_KEY_FILE are both set: keep one")
		case c.PrivateKey == "" && c.PrivateKeyFile == "":
			return errors.New("OKTA_PRIVATE_KEY is not set: OAuth with OKTA_CLIENT_ID needs the app's private key in OKTA_PRIVATE_KEY or OKTA_PRIVATE_KEY_FILE")
		case c.PrivateKeyFile != "":
			k, err := readSecretFile("OKTA_PRIVATE_KEY_FILE", c.PrivateKeyFile, "the OAuth app's private key (PEM or JWK)")
			if err != nil {
				return err
			}
			c.PrivateKey = k
		}
	}
	return nil
}
