package okta

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
)

// ErrUnavailable is matched (with errors.Is) by every error that means Okta
// could not be reached or kept failing: server errors, timeouts and
// connection errors that outlasted the retry budget.
var ErrUnavailable = errors.New("okta unavailable")

// ErrBadResponse is matched (with errors.Is) by every error that means
// Okta's answers cannot be right, so that a listing built from them would
// be wrong: a body over Options.MaxResponseBytes, a page that stayed
// malformed (empty, cut short, not a JSON array) through the retries, a
// page holding an object without the fields every object has (a user
// without an id or login, a group without an id or name), a listing whose
// next links loop, or one that runs past its page bound.
var ErrBadResponse = errors.New("okta answered implausibly")

// malformedError is a 2xx body that is not what the request asks for: empty,
// cut short, not JSON, or not a JSON array where a page is one. Such an
// answer is broken in transit or on Okta's side, and is asked for again.
type malformedError struct {
	what string // what the body is, e.g. "an empty body"
	err  error
}

func (e *malformedError) Error() string { return e.what + ": " + e.err.Error() }
func (e *malformedError) Unwrap() error { return e.err }

// Error is an error answered by Okta, built from its error body:
//
//	{"errorCode":"E0000011","errorSummary":"Invalid token provided","errorLink":"E0000011","errorId":"oae...","errorCauses":[]}
//
// Only Code is stable; Summary is for people. Error() prints one line that
// says what to fix.
//
// See https://developer.okta.com/docs/reference/error-codes/
type Error struct {
	StatusCode int      // HTTP status
	Code       string   // errorCode, e.g. E0000011; for the OAuth token endpoint, its "error" (e.g. invalid_client)
	Summary    string   // errorSummary (or the token endpoint's error_description)
	ID         string   // errorId, quote it to Okta support
	Link       string   // errorLink
	Causes     []string // errorCauses[].errorSummary
	// Expression is the filter or search expression of the request, when
	// the request had one; it names the culprit when Okta rejects it.
	Expression string
	// ExpressionKind is "filter" or "search" when Expression is set.
	ExpressionKind string
	// Method and Path identify the request (the path without the query).
	Method, Path string
	// Attempts is how many times the request was sent, counting retries.
	Attempts int
}

// Okta error codes this package gives a meaning to.
const (
	CodeInvalidToken       = "E0000011"
	CodeForbidden          = "E0000006"
	CodeNotFound           = "E0000007"
	CodeInvalidSearch      = "E0000031"
	CodeSearchAndFilter    = "E0000033"
	CodeUnsupportedFilter  = "E0000094"
	CodeRateLimitExceeded  = "E0000047"
	codeOAuthInvalidClient = "invalid_client"
)

// Error returns one line that says what went wrong and what to check.
func (e *Error) Error() string {
	var b strings.Builder
	req := strings.TrimSpace(e.Method + " " + e.Path)
	switch {
	case e.StatusCode >= 500:
		fmt.Fprintf(&b, "okta unavailable: %s answered %d", req, e.StatusCode)
		if e.Attempts > 1 {
			fmt.Fprintf(&b, " after %d attempts", e.Attempts)
		}
	case e.isInvalidToken():
		fmt.Fprintf(&b, "okta rejected the credentials (%d %s) on %s: check the API token, or the OAuth app's client ID, private key, key ID and that it is active", e.StatusCode, e.Code, req)
	case e.isForbidden():
		fmt.Fprintf(&b, "okta denied permission (%d %s) on %s: %s", e.StatusCode, e.Code, req, missingPermission(e.Path, e.Code))
	case e.isBadExpression():
		fmt.Fprintf(&b, "okta rejected the %s expression %s (%d %s) on %s", orDefault(e.ExpressionKind, "filter/search"), quoteExpression(e.Expression), e.StatusCode, e.Code, req)
	case e.StatusCode == http.StatusTooManyRequests:
		fmt.Fprintf(&b, "okta rate limit still exceeded (%d %s) on %s after %d attempts", e.StatusCode, e.Code, req, e.Attempts)
	default:
		fmt.Fprintf(&b, "okta: %s answered %d", req, e.StatusCode)
		if e.Code != "" {
			fmt.Fprintf(&b, " %s", e.Code)
		}
	}
	if e.Summary != "" {
		fmt.Fprintf(&b, ": %s", strings.TrimRight(e.Summary, ". "))
	}
	if len(e.Causes) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(e.Causes, "; "))
	}
	if e.ID != "" {
		fmt.Fprintf(&b, " [errorId %s]", e.ID)
	}
	return b.String()
}

// Is makes errors.Is(err, ErrUnavailable) true for server errors.
func (e *Error) Is(target error) bool {
	return target == ErrUnavailable && e.StatusCode >= 500
}

func (e *Error) isInvalidToken() bool {
	switch e.Code {
	case CodeInvalidToken, codeOAuthInvalidClient, "invalid_grant", "unauthorized_client", "invalid_dpop_proof":
		return true
	}
	return e.Code == "" && e.StatusCode == http.StatusUnauthorized
}

func (e *Error) isForbidden() bool {
	return e.Code == CodeForbidden || e.Code == "invalid_scope" ||
		(e.Code == "" && e.StatusCode == http.StatusForbidden)
}

func (e *Error) isBadExpression() bool {
	switch e.Code {
	case CodeInvalidSearch, CodeSearchAndFilter, CodeUnsupportedFilter:
		return true
	}
	return false
}

// missingPermission names the admin role or OAuth scope a request needs.
func missingPermission(path, code string) string {
	scope := "okta.users.read and okta.groups.read"
	switch {
	case strings.Contains(path, "/api/v1/logs"):
		scope = "okta.logs.read"
	case strings.Contains(path, "/api/v1/apps"):
		scope = "okta.apps.read"
	case strings.Contains(path, "/api/v1/groups"):
		scope = "okta.groups.read"
	case strings.Contains(path, "/api/v1/users"):
		scope = "okta.users.read"
	}
	if code == "invalid_scope" {
		return fmt.Sprintf("grant the OAuth app the scope %s (Okta API Scopes tab) or request only granted scopes", scope)
	}
	return fmt.Sprintf("the API token's admin needs a role that can read this (Read-Only Administrator is enough), or the OAuth app needs the scope %s and an admin role", scope)
}

// quoteExpression quotes an expression for a message without escaping its
// double quotes, which Okta expressions are full of.
func quoteExpression(s string) string {
	if s == "" {
		return "(none)"
	}
	if !strings.ContainsAny(s, "`\n") {
		return "`" + s + "`"
	}
	return strconv.Quote(s)
}

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// IsInvalidToken reports whether err is Okta refusing the credentials
// (E0000011, or the OAuth token endpoint refusing the client).
func IsInvalidToken(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.isInvalidToken()
}

// IsForbidden reports whether err is Okta denying permission (E0000006, or
// the OAuth token endpoint refusing a scope).
func IsForbidden(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.isForbidden()
}

// IsBadExpression reports whether err is Okta rejecting a filter or search
// expression (E0000031, E0000033, E0000094).
func IsBadExpression(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.isBadExpression()
}

// IsUnavailable reports whether err means Okta could not be reached or kept
// answering server errors; it is errors.Is(err, ErrUnavailable).
func IsUnavailable(err error) bool {
	return errors.Is(err, ErrUnavailable)
}

// errorBody is Okta's error body, and the OAuth token endpoint's.
type errorBody struct {
	ErrorCode    string `json:"errorCode"`
	ErrorSummary string `json:"errorSummary"`
	ErrorLink    string `json:"errorLink"`
	ErrorID      string `json:"errorId"`
	ErrorCauses  []struct {
		ErrorSummary string `json:"errorSummary"`
	} `json:"errorCauses"`
	OAuthError       string `json:"error"`
	OAuthDescription string `json:"error_description"`
}
