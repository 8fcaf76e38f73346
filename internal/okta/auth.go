package okta

import (
	"context"
	"net/http"
	"net/url"
	"strings"
)

// Authenticator authorizes the client's requests to Okta: an API token
// (NewTokenAuth) or an OAuth 2.0 service app (NewOAuth). Its methods are
// unexported; the implementations live in this package. One Authenticator
// may serve several clients: each client keeps its own token cache.
type Authenticator interface {
	// session binds the authenticator to one client.
	session(c *Client) authSession
}

// authSession authorizes the requests of one client.
type authSession interface {
	// authorize sets the Authorization (and DPoP) headers of a request.
	// It returns an opaque handle of the credential it used, for reject.
	authorize(ctx context.Context, method string, u *url.URL, h http.Header) (credential string, err error)
	// reject is told about a 401 answered to a request authorized with
	// credential; it reports whether sending the request again may succeed
	// (a cached token was dropped, or a DPoP nonce is now known).
	reject(credential string, h http.Header) bool
	// observe sees the headers of every API response (for DPoP-Nonce).
	observe(h http.Header)
}

// NewTokenAuth returns an Authenticator that sends an Okta API token as
// "Authorization: SSWS <token>".
//
// See https://developer.okta.com/docs/guides/create-an-api-token/
// Surrounding white space and a pasted "SSWS " prefix are dropped.
func NewTokenAuth(token string) Authenticator {
	token = strings.TrimSpace(token)
	if len(token) > 5 && strings.EqualFold(token[:5], "SSWS ") {
		token = strings.TrimSpace(token[5:])
	}
	return tokenAuth{token: token}
}

type tokenAuth struct {
	token string
}

// String keeps the token out of fmt output.
func (tokenAuth) String() string { return "okta.tokenAuth{token:REDACTED}" }

// GoString keeps the token out of %#v output.
func (a tokenAuth) GoString() string { return a.String() }

func (a tokenAuth) session(*Client) authSession { return a }

func (a tokenAuth) authorize(_ context.Context, _ string, _ *url.URL, h http.Header) (string, error) {
	h.Set("Authorization", "SSWS "+a.token)
	return "", nil
}

// reject: a refused API token does not get better by sending it again.
func (tokenAuth) reject(string, http.Header) bool { return false }

func (tokenAuth) observe(http.Header) {}
