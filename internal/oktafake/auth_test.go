package oktafake

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

func TestSSWSAuth(t *testing.T) {
	t.Parallel()
	_, base := newTestServer(t, DemoOrg(), Options{Tokens: []string{"good"}, TokensWithoutLogs: []string{"nologs"}})
	tests := []struct {
		name, path, auth string
		wantStatus       int
		wantCode         string
	}{
		{"good token", "/api/v1/users", "SSWS good", 200, ""},
		{"scheme is case-insensitive", "/api/v1/users", "ssws good", 200, ""},
		{"bad token", "/api/v1/users", "SSWS bad", 401, "E0000011"},
		{"no header", "/api/v1/groups", "", 401, "E0000011"},
		{"bearer with an API token", "/api/v1/users", "Bearer good", 401, "E0000011"},
		{"logs allowed", "/api/v1/logs", "SSWS good", 200, ""},
		{"logs forbidden", "/api/v1/logs", "SSWS nologs", 403, "E0000006"},
		{"users without logs permission", "/api/v1/users", "SSWS nologs", 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, body := do(t, base+tt.path, tt.auth)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("got status %d, want %d: %s", resp.StatusCode, tt.wantStatus, body)
			}
			if tt.wantCode != "" {
				if got := errorBody(t, body).ErrorCode; got != tt.wantCode {
					t.Errorf("got errorCode %s, want %s", got, tt.wantCode)
				}
			}
		})
	}
}

// oauthTest is an OAuth service app talking to a test server.
type oauthTest struct {
	t        *testing.T
	base     string
	clientID string
	alg      jose.SignatureAlgorithm
	key      crypto.Signer
}

func (c *oauthTest) assertion(mutate func(*jwt.Claims)) string {
	c.t.Helper()
	now := time.Now()
	claims := jwt.Claims{
		Issuer:   c.clientID,
		Subject:  c.clientID,
		Audience: jwt.Audience{c.base + "/oauth2/v1/token"},
		Expiry:   jwt.NewNumericDate(now.Add(5 * time.Minute)),
		IssuedAt: jwt.NewNumericDate(now),
		ID:       randomToken(),
	}
	if mutate != nil {
		mutate(&claims)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: c.alg, Key: c.key}, (&jose.SignerOptions{}).WithType("JWT"))
	if err != nil {
		c.t.Fatal(err)
	}
	raw, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		c.t.Fatal(err)
	}
	return raw
}

func (c *oauthTest) form(assertion, scope string) url.Values {
	return url.Values{
		"grant_type":            {"client_credentials"},
		"scope":                 {scope},
		"client_assertion_type": {assertionType},
		"client_assertion":      {assertion},
	}
}

// postToken sends a token request and decodes the JSON answer.
func (c *oauthTest) postToken(form url.Values, dpop string) (*http.Response, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodPost, c.base+"/oauth2/v1/token", strings.NewReader(form.Encode()))
	if err != nil {
		c.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if dpop != "" {
		req.Header.Set("DPoP", dpop)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		c.t.Fatalf("token response %s: %v", b, err)
	}
	return resp, body
}

func TestOAuthPrivateKeyJWT(t *testing.T) {
	t.Parallel()
	rsaKey := newRSAKey(t)
	ecKey := newECKey(t, elliptic.P384())
	otherKey := newECKey(t, elliptic.P256())
	srv, base := newTestServer(t, DemoOrg(), Options{})
	srv.RegisterOAuthClient("0oarsa", rsaKey.Public(), false)
	srv.RegisterOAuthClient("0oaec", ecKey.Public(), false)
	srv.SetOAuthClientScopes("0oaec", []string{"okta.users.read", "okta.groups.read"})

	for _, c := range []*oauthTest{
		{t: t, base: base, clientID: "0oarsa", alg: jose.RS256, key: rsaKey},
		{t: t, base: base, clientID: "0oarsa", alg: jose.RS512, key: rsaKey},
		{t: t, base: base, clientID: "0oaec", alg: jose.ES384, key: ecKey},
	} {
		t.Run(c.clientID+"/"+string(c.alg), func(t *testing.T) {
			c.t = t
			resp, body := c.postToken(c.form(c.assertion(nil), "okta.users.read okta.groups.read"), "")
			if resp.StatusCode != 200 {
				t.Fatalf("got status %d, want 200: %v", resp.StatusCode, body)
			}
			if body["token_type"] != "Bearer" || body["expires_in"] != float64(3600) {
				t.Errorf("got token_type %v, expires_in %v; want Bearer, 3600", body["token_type"], body["expires_in"])
			}
			tok, _ := body["access_token"].(string)
			if resp, b := do(t, base+"/api/v1/users?limit=1", "Bearer "+tok); resp.StatusCode != 200 {
				t.Errorf("GET users with the token: got status %d, want 200: %s", resp.StatusCode, b)
			}
			if resp, b := do(t, base+"/api/v1/logs", "Bearer "+tok); resp.StatusCode != 403 || errorBody(t, b).ErrorCode != "E0000006" {
				t.Errorf("GET logs without okta.logs.read: got status %d, want 403 E0000006: %s", resp.StatusCode, b)
			}
			if resp, _ := do(t, base+"/api/v1/users?limit=1", "DPoP "+tok); resp.StatusCode != 401 {
				t.Errorf("a Bearer token sent as DPoP: got status %d, want 401", resp.StatusCode)
			}
		})
	}

	c := &oauthTest{t: t, base: base, clientID: "0oarsa", alg: jose.RS256, key: rsaKey}
	reused := c.assertion(nil)
	if resp, body := c.postToken(c.form(reused, "okta.users.read"), ""); resp.StatusCode != 200 {
		t.Fatalf("first use of an assertion: got status %d, want 200: %v", resp.StatusCode, body)
	}
	bad := []struct {
		name      string
		form      url.Values
		wantError string
	}{
		{"reused jti", c.form(reused, "okta.users.read"), "invalid_client"},
		{"wrong audience", c.form(c.assertion(func(cl *jwt.Claims) { cl.Audience = jwt.Audience{"http://elsewhere/oauth2/v1/token"} }), "okta.users.read"), "invalid_client"},
		{"expired", c.form(c.assertion(func(cl *jwt.Claims) { cl.Expiry = jwt.NewNumericDate(time.Now().Add(-5 * time.Minute)) }), "okta.users.read"), "invalid_client"},
		{"exp beyond an hour", c.form(c.assertion(func(cl *jwt.Claims) { cl.Expiry = jwt.NewNumericDate(time.Now().Add(3 * time.Hour)) }), "okta.users.read"), "invalid_client"},
		{"no exp", c.form(c.assertion(func(cl *jwt.Claims) { cl.Expiry = nil }), "okta.users.read"), "invalid_client"},
		{"no jti", c.form(c.assertion(func(cl *jwt.Claims) { cl.ID = "" }), "okta.users.read"), "invalid_client"},
		{"sub differs from iss", c.form(c.assertion(func(cl *jwt.Claims) { cl.Subject = "someone" }), "okta.users.read"), "invalid_client"},
		{"unknown client", c.form(c.assertion(func(cl *jwt.Claims) { cl.Issuer, cl.Subject = "0oanope", "0oanope" }), "okta.users.read"), "invalid_client"},
		{"signed by another key", c.form((&oauthTest{t: t, base: base, clientID: "0oarsa", alg: jose.ES256, key: otherKey}).assertion(nil), "okta.users.read"), "invalid_client"},
		{"no scope", c.form(c.assertion(nil), ""), "invalid_scope"},
		{"scope not granted", c.form(c.assertion(nil), "okta.users.manage"), "invalid_scope"},
		{"wrong grant", func() url.Values {
			f := c.form(c.assertion(nil), "okta.users.read")
			f.Set("grant_type", "password")
			return f
		}(), "unsupported_grant_type"},
		{"no assertion type", func() url.Values {
			f := c.form(c.assertion(nil), "okta.users.read")
			f.Del("client_assertion_type")
			return f
		}(), "invalid_client"},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			c.t = t
			resp, body := c.postToken(tt.form, "")
			if resp.StatusCode < 400 || body["error"] != tt.wantError {
				t.Errorf("got status %d, body %v; want error %s", resp.StatusCode, body, tt.wantError)
			}
		})
	}
	if resp, _ := do(t, base+"/api/v1/users", "Bearer not-a-token"); resp.StatusCode != 401 {
		t.Errorf("unknown Bearer token: got status %d, want 401", resp.StatusCode)
	}
}

// dpopProof builds a DPoP proof by hand (ES256, no JOSE library), so that
// the server is checked against the specification rather than against the
// library it uses.
func dpopProof(t *testing.T, key *ecdsa.PrivateKey, method, htu, nonce, accessToken string) string {
	t.Helper()
	b64 := base64.RawURLEncoding.EncodeToString
	pad := func(n *big.Int) string {
		b := make([]byte, 32)
		n.FillBytes(b)
		return b64(b)
	}
	header, _ := json.Marshal(map[string]any{
		"typ": "dpop+jwt",
		"alg": "ES256",
		"jwk": map[string]string{"kty": "EC", "crv": "P-256", "x": pad(key.X), "y": pad(key.Y)},
	})
	claims := map[string]any{"htm": method, "htu": htu, "iat": time.Now().Unix(), "jti": randomToken()}
	if nonce != "" {
		claims["nonce"] = nonce
	}
	if accessToken != "" {
		sum := sha256.Sum256([]byte(accessToken))
		claims["ath"] = b64(sum[:])
	}
	payload, _ := json.Marshal(claims)
	input := b64(header) + "." + b64(payload)
	digest := sha256.Sum256([]byte(input))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		t.Fatal(err)
	}
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	return input + "." + b64(sig)
}

func TestOAuthDPoP(t *testing.T) {
	t.Parallel()
	appKey := newRSAKey(t)
	dpopKey := newECKey(t, elliptic.P256())
	otherKey := newECKey(t, elliptic.P256())
	srv, base := newTestServer(t, DemoOrg(), Options{})
	srv.RegisterOAuthClient("0oadpop", appKey.Public(), true)
	c := &oauthTest{t: t, base: base, clientID: "0oadpop", alg: jose.RS256, key: appKey}
	tokenURL := base + "/oauth2/v1/token"
	form := c.form(c.assertion(nil), "okta.users.read okta.groups.read okta.logs.read")

	resp, body := c.postToken(form, "")
	if resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("without a proof: got %d %v, want 400 invalid_dpop_proof", resp.StatusCode, body)
	}
	resp, body = c.postToken(form, dpopProof(t, dpopKey, "POST", tokenURL, "", ""))
	nonce := resp.Header.Get("DPoP-Nonce")
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" || nonce == "" {
		t.Fatalf("without a nonce: got %d %v nonce %q, want 400 use_dpop_nonce with a DPoP-Nonce header", resp.StatusCode, body, nonce)
	}
	resp, body = c.postToken(form, dpopProof(t, dpopKey, "POST", tokenURL, "made-up", ""))
	if resp.StatusCode != 400 || body["error"] != "use_dpop_nonce" {
		t.Fatalf("with an unknown nonce: got %d %v, want 400 use_dpop_nonce", resp.StatusCode, body)
	}
	resp, body = c.postToken(form, dpopProof(t, dpopKey, "POST", base+"/elsewhere", nonce, ""))
	if resp.StatusCode != 400 || body["error"] != "invalid_dpop_proof" {
		t.Fatalf("with a wrong htu: got %d %v, want 400 invalid_dpop_proof", resp.StatusCode, body)
	}
	// The same form, assertion included, is resent with the nonce.
	resp, body = c.postToken(form, dpopProof(t, dpopKey, "POST", tokenURL, nonce, ""))
	if resp.StatusCode != 200 || body["token_type"] != "DPoP" {
		t.Fatalf("with the nonce: got %d %v, want 200 token_type DPoP", resp.StatusCode, body)
	}
	tok := body["access_token"].(string)

	usersURL := base + "/api/v1/users"
	call := func(auth, proof string) int {
		req, _ := http.NewRequest(http.MethodGet, usersURL+"?limit=2&search="+url.QueryEscape(`status eq "ACTIVE"`), nil)
		req.Header.Set("Authorization", auth)
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	good := dpopProof(t, dpopKey, "GET", usersURL, "", tok)
	tests := []struct {
		name, auth, proof string
		want              int
	}{
		{"valid proof, htu without query", "DPoP " + tok, good, 200},
		{"replayed proof", "DPoP " + tok, good, 401},
		{"no proof", "DPoP " + tok, "", 401},
		{"as a Bearer token", "Bearer " + tok, dpopProof(t, dpopKey, "GET", usersURL, "", tok), 401},
		{"wrong ath", "DPoP " + tok, dpopProof(t, dpopKey, "GET", usersURL, "", "other-token"), 401},
		{"htu with query", "DPoP " + tok, dpopProof(t, dpopKey, "GET", usersURL+"?limit=2", "", tok), 401},
		{"wrong method", "DPoP " + tok, dpopProof(t, dpopKey, "POST", usersURL, "", tok), 401},
		{"another key", "DPoP " + tok, dpopProof(t, otherKey, "GET", usersURL, "", tok), 401},
		{"fresh proof", "DPoP " + tok, dpopProof(t, dpopKey, "GET", usersURL, "", tok), 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := call(tt.auth, tt.proof); got != tt.want {
				t.Errorf("got status %d, want %d", got, tt.want)
			}
		})
	}
	// A second token request spends the same assertion's jti no more.
	resp, body = c.postToken(form, dpopProof(t, dpopKey, "POST", tokenURL, nonce, ""))
	if resp.StatusCode != 401 || body["error"] != "invalid_client" {
		t.Errorf("reusing a spent assertion: got %d %v, want 401 invalid_client", resp.StatusCode, body)
	}
}

func TestOAuthTokenExpires(t *testing.T) {
	t.Parallel()
	key := newECKey(t, elliptic.P256())
	srv, base := newTestServer(t, DemoOrg(), Options{})
	srv.RegisterOAuthClient("0oa", key.Public(), false)
	c := &oauthTest{t: t, base: base, clientID: "0oa", alg: jose.ES256, key: key}
	_, body := c.postToken(c.form(c.assertion(nil), "okta.users.read"), "")
	tok := fmt.Sprint(body["access_token"])
	srv.auth.mu.Lock()
	srv.auth.tokens[tok].expires = time.Now().Add(-time.Second)
	srv.auth.mu.Unlock()
	if resp, _ := do(t, base+"/api/v1/users", "Bearer "+tok); resp.StatusCode != 401 {
		t.Errorf("expired token: got status %d, want 401", resp.StatusCode)
	}
}

// newRSAKey returns a new 2048-bit RSA key.
func newRSAKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// newECKey returns a new ECDSA key on curve.
func newECKey(t *testing.T, curve elliptic.Curve) *ecdsa.PrivateKey {
	t.Helper()
	k, err := ecdsa.GenerateKey(curve, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}
