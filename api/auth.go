package api

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// secret is a token kept only as its hash, so comparing it takes the same time
// whatever the length and content of the candidate.
type secret struct {
	set bool
	sum [sha256.Size]byte
}

func newSecret(token string) secret {
	if token == "" {
		return secret{}
	}
	return secret{set: true, sum: sha256.Sum256([]byte(token))}
}

// requireToken lets a request through only when it carries the token as
// "Authorization: Bearer <token>" or as the token query parameter. An unset
// token lets everything through.
func requireToken(token secret) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		if !token.set {
			return next
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if !token.matches(bearer(r)) && !token.matches(r.URL.Query().Get("token")) {
				writeError(w, r, errEntitiesToken)
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

// bearer returns the credentials of an "Authorization: Bearer" header, or "".
func bearer(r *http.Request) string {
	scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return ""
	}
	return strings.TrimSpace(cred)
}

// matches reports, in constant time, whether candidate is the secret. The
// empty candidate never matches.
func (s secret) matches(candidate string) bool {
	if !s.set || candidate == "" {
		return false
	}
	sum := sha256.Sum256([]byte(candidate))
	return subtle.ConstantTimeCompare(sum[:], s.sum[:]) == 1
}
