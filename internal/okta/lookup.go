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
	return getOne(ctx, c, "/api/v1/users/", id, "user", checkUser)
}

// GetGroup returns one group by id; a group that does not exist is an
// *Error with StatusCode 404.
//
// See https://developer.okta.com/docs/api/openapi/okta-management/management/tag/Group/#tag/Group/operation/getGroup
func (c *Client) GetGroup(ctx context.Context, id string) (Group, error) {
	return getOne(ctx, c, "/api/v1/groups/", id, "group", checkGroup)
}

// getOne GETs path+id and decodes the body as one T, which check must
// find sound (it returns the problem, "" for none). The id comes from
// outside (an event), so it is checked to be one path segment of Okta id
// characters before it is sent.
func getOne[T any](ctx context.Context, c *Client, path, id, what string, check func(*T) string) (T, error) {
	var v T
	if !validID(id) {
		return v, fmt.Errorf("okta: get %s: %q is not an Okta id", what, id)
	}
	_, err := c.get(ctx, c.endpoint(path+url.PathEscape(id), nil), expression{}, func(b []byte) error {
		if err := json.Unmarshal(b, &v); err != nil {
			return &malformedError{"a " + what + " body that is not valid JSON", err}
		}
		if problem := check(&v); problem != "" {
			return fmt.Errorf("the %s answered is %s", what, problem)
		}
		return nil
	})
	if err != nil {
		return v, fmt.Errorf("get %s %s: %w", what, id, err)
	}
	return v, nil
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
