package okta

import (
	"context"
	"crypto"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// newOAuthSession returns the OAuth authenticator of cfg and its session in
// a client of orgURL.
func newOAuthSession(t *testing.T, orgURL string, cfg OAuthConfig) (Authenticator, *oauthSession) {
	t.Helper()
	auth, err := NewOAuth(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewClient(orgURL, auth, Options{})
	if err != nil {
		t.Fatal(err)
	}
	return auth, c.auth.(*oauthSession)
}

func TestDPoPProof(t *testing.T) {
	t.Parallel()
	rsaKey, _ := testKeys()
	_, s := newOAuthSession(t, "https://example.okta.com",
		OAuthConfig{ClientID: "0oa1", PrivateKey: pemBlock("RSA PRIVATE KEY", x509PKCS1(rsaKey)), KeyID: "k1"})
	u, _ := url.Parse("https://example.okta.com/api/v1/users?filter=status%20eq%20%22ACTIVE%22&limit=200#frag")
	proofs := map[string]bool{}
	var thumb string
	for range 2 {
		p, err := s.proof(http.MethodGet, u, "the-access-token", "nonce-1")
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.ParseSigned(p, []jose.SignatureAlgorithm{jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		h := tok.Headers[0]
		if typ := h.ExtraHeaders[jose.HeaderType]; typ != "dpop+jwt" {
			t.Errorf("typ = %v, want dpop+jwt", typ)
		}
		if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
			t.Fatal("no public jwk in the header")
		}
		tp, _ := h.JSONWebKey.Thumbprint(crypto.SHA256)
		if thumb != "" && string(tp) != thumb {
			t.Error("the proof key changed between proofs")
		}
		thumb = string(tp)
		if rsaKey.PublicKey.Equal(h.JSONWebKey.Key) {
			t.Error("the DPoP key is the client-assertion key")
		}
		var claims dpopClaims
		if err := tok.Claims(h.JSONWebKey.Key, &claims); err != nil {
			t.Fatalf("signature: %v", err)
		}
		sum := sha256.Sum256([]byte("the-access-token"))
		want := dpopClaims{JTI: claims.JTI, HTM: "GET", HTU: "https://example.okta.com/api/v1/users", IAT: claims.IAT,
			ATH: base64.RawURLEncoding.EncodeToString(sum[:]), Nonce: "nonce-1"}
		if claims != want {
			t.Errorf("claims = %+v, want %+v", claims, want)
		}
		if d := time.Since(time.Unix(claims.IAT, 0)); d < -time.Second || d > 5*time.Second {
			t.Errorf("iat is %v from now", d)
		}
		if claims.JTI == "" || proofs[claims.JTI] {
			t.Errorf("jti %q empty or repeated", claims.JTI)
		}
		proofs[claims.JTI] = true
	}
}

func TestClientAssertion(t *testing.T) {
	t.Parallel()
	_, ecKey := testKeys()
	auth, s := newOAuthSession(t, "http://127.0.0.1:1/okta-prefix",
		OAuthConfig{ClientID: " 0oa1 ", PrivateKey: pemBlock("EC PRIVATE KEY", x509SEC1(ecKey)), KeyID: "kid-7"})
	a, err := s.assertion()
	if err != nil {
		t.Fatal(err)
	}
	tok, err := jwt.ParseSigned(a, []jose.SignatureAlgorithm{jose.ES256})
	if err != nil {
		t.Fatal(err)
	}
	if kid := tok.Headers[0].KeyID; kid != "kid-7" {
		t.Errorf("kid = %q, want kid-7", kid)
	}
	var claims jwt.Claims
	if err := tok.Claims(&ecKey.PublicKey, &claims); err != nil {
		t.Fatal(err)
	}
	err = claims.Validate(jwt.Expected{Issuer: "0oa1", Subject: "0oa1", AnyAudience: jwt.Audience{"http://127.0.0.1:1/okta-prefix/oauth2/v1/token"}})
	if err != nil {
		t.Errorf("claims: %v", err)
	}
	if exp := claims.Expiry.Time(); exp.After(time.Now().Add(time.Hour)) {
		t.Errorf("exp %v is more than an hour away", exp)
	}
	if claims.ID == "" {
		t.Error("no jti")
	}
	if got := auth.(interface{ String() string }).String(); strings.Contains(got, "PRIVATE") {
		t.Errorf("String() = %q shows the key", got)
	}
}

func TestNewOAuthErrors(t *testing.T) {
	t.Parallel()
	if _, err := NewOAuth(OAuthConfig{PrivateKey: []byte("x")}); err == nil || !strings.Contains(err.Error(), "client ID") {
		t.Errorf("no client ID: error = %v", err)
	}
	if _, err := NewOAuth(OAuthConfig{ClientID: "a", PrivateKey: []byte("x")}); err == nil || !strings.Contains(err.Error(), "neither PEM") {
		t.Errorf("bad key: error = %v", err)
	}
}

func TestTokenIsFetchedOnceAndAgainAfter401(t *testing.T) {
	t.Parallel()
	_, ecKey := testKeys()
	var tokens, apiCalls int
	srv := newTestServer(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/oauth2/v1/token" {
			tokens++
			writeJSON(w, 200, map[string]any{"token_type": "Bearer", "expires_in": 3600, "access_token": "at-" + string(rune('0'+tokens))})
			return
		}
		apiCalls++
		// The first token is revoked after the first call.
		if r.Header.Get("Authorization") != "Bearer at-2" && apiCalls > 1 {
			oktaError(w, 401, "E0000011", "Invalid token provided")
			return
		}
		writeJSON(w, 200, testUsers("u"))
	})
	auth, err := NewOAuth(OAuthConfig{ClientID: "0oa1", PrivateKey: pemBlock("EC PRIVATE KEY", x509SEC1(ecKey))})
	if err != nil {
		t.Fatal(err)
	}
	c, _ := newTestClient(t, srv.orgURL(), auth, Options{})
	for range 3 {
		if err := drain(c.ListUsers(context.Background(), UserListOptions{})); err != nil {
			t.Fatal(err)
		}
	}
	if tokens != 2 || apiCalls != 4 {
		t.Errorf("token requests, API calls = %d, %d, want 2, 4", tokens, apiCalls)
	}
}
