package okta

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// GetUser returns one user by id. A user that does not exist (deleted, or
// never there) is an *Error with StatusCode 404; IsNotFound reports it.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/User/#tag/User/operation/getUser
func (c *Client) GetUser(ctx context.Context, id string) (User, error) {
	var u User
	err := c.getOne(ctx, "/api/v1/users/", id, "user", func(b []byte) error {
		if err := json.Unmarshal(b, &u); err != nil {
			return &malformedError{"a user body that is not valid JSON", err}
		}
		if problem := checkUser(&u); problem != "" {
			return fmt.Errorf("the user answered is %s", problem)
		}
		return nil
	})
	return u, err
}

// GetGroup returns one group by id; a group that does not exist is an
// *Error with StatusCode 404.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/getGroup
func (c *Client) GetGroup(ctx context.Context, id string) (Group, error) {
	var g Group
	err := c.getOne(ctx, "/api/v1/groups/", id, "group", func(b []byte) error {
		if err := json.Unmarshal(b, &g); err != nil {
			return &malformedError{"a group body that is not valid JSON", err}
		}
		if problem := checkGroup(&g); problem != "" {
			return fmt.Errorf("the group answered is %s", problem)
		}
		return nil
	})
	return g, err
}

// getOne GETs path+id. The id comes from outside (an event), so it is
// checked to be one path segment of Okta id characters before it is sent.
func (c *Client) getOne(ctx context.Context, path, id, what string, decode func([]byte) error) error {
	if !validID(id) {
		return fmt.Errorf("okta: get %s: %q is not an Okta id", what, id)
	}
	_, err := c.get(ctx, c.endpoint(path+url.PathEscape(id), nil), expression{}, decode)
	if err != nil {
		return fmt.Errorf("get %s %s: %w", what, id, err)
	}
	return nil
}

// validID reports whether id looks like an Okta object id: 1 to 64
// letters and digits.
func validID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	return strings.IndexFunc(id, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9')
	}) < 0
}

// IsNotFound reports whether err is Okta answering 404: the object does
// not exist.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.StatusCode == http.StatusNotFound
}
