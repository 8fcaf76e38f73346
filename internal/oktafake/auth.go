package oktafake

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// OAuth scopes the fake knows. Every registered client is granted these
// unless SetOAuthClientScopes says otherwise.
var defaultGrantedScopes = []string{"okta.users.read", "okta.groups.read", "okta.logs.read", "okta.apps.read"}

const (
	assertionType  = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
	tokenLifetime  = time.Hour
	nonceLifetime  = 30 * time.Minute
	proofMaxAge    = 5 * time.Minute
	assertionSkew  = time.Minute
	tokenPath      = "/oauth2/v1/token"
	scopeUsersRead = "okta.users.read"
)

var signingAlgs = []jose.SignatureAlgorithm{jose.RS256, jose.RS384, jose.RS512, jose.ES256, jose.ES384, jose.ES512}

type oauthClient struct {
	keys        []crypto.PublicKey
	requireDPoP bool
	scopes      []string
}

type accessToken struct {
	clientID string
	scopes   []string
	expires  time.Time
	jkt      string // JWK thumbprint of the DPoP key; empty for Bearer tokens
}

// authState holds OAuth clients, issued tokens and replay caches.
type authState struct {
	mu      sync.Mutex
	clients map[string]*oauthClient
	tokens  map[string]*accessToken
	jtis    map[string]time.Time // assertion and proof ids seen, until they expire
	nonces  map[string]time.Time // DPoP nonces issued, until they expire
}

func (a *authState) init() {
	a.clients = map[string]*oauthClient{}
	a.tokens = map[string]*accessToken{}
	a.jtis = map[string]time.Time{}
	a.nonces = map[string]time.Time{}
}

// RegisterOAuthClient registers an OAuth 2.0 service app that
// authenticates with a private-key JWT signed by the key matching
// publicKey (RSA or ECDSA). Registering the same client again adds a key.
// With requireDPoP, token requests need a DPoP proof and the tokens issued
// are DPoP-bound. The client is granted okta.users.read, okta.groups.read
// and okta.logs.read.
func (s *Server) RegisterOAuthClient(clientID string, publicKey crypto.PublicKey, requireDPoP bool) {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	c := a.clients[clientID]
	if c == nil {
		c = &oauthClient{scopes: slices.Clone(defaultGrantedScopes)}
		a.clients[clientID] = c
	}
	c.keys = append(c.keys, publicKey)
	c.requireDPoP = requireDPoP
}

// SetOAuthClientScopes replaces the scopes granted to a registered client,
// e.g. to leave out okta.logs.read.
func (s *Server) SetOAuthClientScopes(clientID string, scopes []string) {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if c := a.clients[clientID]; c != nil {
		c.scopes = slices.Clone(scopes)
	}
}

// oauthError writes an OAuth 2.0 error body, as Okta's authorization
// server does.
func oauthError(w http.ResponseWriter, status int, code, description string) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": code, "error_description": description})
}

// handleToken serves POST /oauth2/v1/token: the client credentials grant
// with a private-key JWT assertion, and DPoP.
func (s *Server) handleToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		oauthError(w, http.StatusBadRequest, "invalid_request", "The request body is not a valid form.")
		return
	}
	f := r.PostForm
	if f.Get("grant_type") != "client_credentials" {
		oauthError(w, http.StatusBadRequest, "unsupported_grant_type", "The authorization grant type is not supported by the authorization server.")
		return
	}
	if f.Get("client_assertion_type") != assertionType || f.Get("client_assertion") == "" {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "Client authentication failed: a private-key JWT client assertion is required.")
		return
	}
	now := s.wall()
	tokenURL := s.baseURL(r) + tokenPath
	clientID, jti, err := s.verifyAssertion(f.Get("client_assertion"), f.Get("client_id"), tokenURL, now)
	if err != nil {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion token is invalid: "+err.Error())
		return
	}
	a := &s.auth
	a.mu.Lock()
	client := a.clients[clientID]
	granted := slices.Clone(client.scopes)
	requireDPoP := client.requireDPoP
	a.mu.Unlock()

	requested := strings.Fields(f.Get("scope"))
	if len(requested) == 0 {
		oauthError(w, http.StatusBadRequest, "invalid_scope", "The authorization server resource does not have any configured default scopes, 'scope' must be provided.")
		return
	}
	for _, sc := range requested {
		if !slices.Contains(granted, sc) {
			oauthError(w, http.StatusBadRequest, "invalid_scope", "The following scopes are not allowed: "+sc)
			return
		}
	}

	jkt := ""
	proof := r.Header.Get("DPoP")
	switch {
	case proof == "" && requireDPoP:
		oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT header is missing.")
		return
	case proof != "":
		claims, thumb, err := s.verifyProof(proof, http.MethodPost, tokenURL, now)
		if err != nil {
			oauthError(w, http.StatusBadRequest, "invalid_dpop_proof", "The DPoP proof JWT is invalid: "+err.Error())
			return
		}
		if !s.validNonce(claims.Nonce, now) {
			w.Header().Set("DPoP-Nonce", s.newNonce(now))
			oauthError(w, http.StatusBadRequest, "use_dpop_nonce", "Authorization server requires nonce in DPoP proof.")
			return
		}
		jkt = thumb
	}
	// The assertion's jti is spent only by a request that gets a token, so
	// that a client may resend its form with a nonce after use_dpop_nonce.
	if !s.useJTI("assertion:"+jti.id, jti.until, now) {
		oauthError(w, http.StatusUnauthorized, "invalid_client", "The client_assertion token is invalid: jti has already been used")
		return
	}

	tok := accessToken{clientID: clientID, scopes: requested, expires: now.Add(tokenLifetime), jkt: jkt}
	value := randomToken()
	a.mu.Lock()
	a.tokens[value] = &tok
	a.mu.Unlock()
	tokenType := "Bearer"
	if jkt != "" {
		tokenType = "DPoP"
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Pragma", "no-cache")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"token_type":   tokenType,
		"expires_in":   int(tokenLifetime / time.Second),
		"access_token": value,
		"scope":        strings.Join(requested, " "),
	})
}

// spentID is a token id and how long to remember it.
type spentID struct {
	id    string
	until time.Time
}

// verifyAssertion checks a client assertion's signature and claims and
// returns the client id and the assertion's jti, not yet recorded as used.
func (s *Server) verifyAssertion(assertion, formClientID, tokenURL string, now time.Time) (string, spentID, error) {
	tok, err := jwt.ParseSigned(assertion, signingAlgs)
	if err != nil {
		return "", spentID{}, fmt.Errorf("not a JWT signed with RS256/384/512 or ES256/384/512: %w", err)
	}
	var unverified jwt.Claims
	if err := tok.UnsafeClaimsWithoutVerification(&unverified); err != nil {
		return "", spentID{}, fmt.Errorf("claims: %w", err)
	}
	clientID := unverified.Issuer
	a := &s.auth
	a.mu.Lock()
	client := a.clients[clientID]
	var keys []crypto.PublicKey
	if client != nil {
		keys = slices.Clone(client.keys)
	}
	a.mu.Unlock()
	if client == nil {
		return "", spentID{}, fmt.Errorf("unknown client %q in iss", clientID)
	}
	if formClientID != "" && formClientID != clientID {
		return "", spentID{}, fmt.Errorf("client_id does not match iss")
	}
	var claims jwt.Claims
	verified := false
	for _, k := range keys {
		if tok.Claims(k, &claims) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return "", spentID{}, fmt.Errorf("signature does not match any key registered for the client")
	}
	if claims.Subject != clientID {
		return "", spentID{}, fmt.Errorf("sub must equal iss, the client id")
	}
	if !claims.Audience.Contains(tokenURL) {
		return "", spentID{}, fmt.Errorf("aud must be %s", tokenURL)
	}
	if claims.Expiry == nil {
		return "", spentID{}, fmt.Errorf("exp is required")
	}
	exp := claims.Expiry.Time()
	if !now.Before(exp.Add(assertionSkew)) {
		return "", spentID{}, fmt.Errorf("the assertion has expired")
	}
	if exp.After(now.Add(tokenLifetime + assertionSkew)) {
		return "", spentID{}, fmt.Errorf("exp must be at most one hour in the future")
	}
	if claims.ID == "" {
		return "", spentID{}, fmt.Errorf("jti is required")
	}
	if s.seenJTI("assertion:"+claims.ID, now) {
		return "", spentID{}, fmt.Errorf("jti has already been used")
	}
	return clientID, spentID{claims.ID, exp.Add(assertionSkew)}, nil
}

// proofClaims are the claims of a DPoP proof.
type proofClaims struct {
	HTM   string           `json:"htm"`
	HTU   string           `json:"htu"`
	IAT   *jwt.NumericDate `json:"iat"`
	JTI   string           `json:"jti"`
	Nonce string           `json:"nonce"`
	ATH   string           `json:"ath"`
}

// verifyProof checks a DPoP proof's header, signature and htm, htu, iat and
// jti claims, and returns the claims and the key's SHA-256 thumbprint.
func (s *Server) verifyProof(proof, method, htu string, now time.Time) (proofClaims, string, error) {
	var c proofClaims
	tok, err := jwt.ParseSigned(proof, signingAlgs)
	if err != nil {
		return c, "", fmt.Errorf("not a JWT signed with an asymmetric algorithm: %w", err)
	}
	if len(tok.Headers) != 1 {
		return c, "", fmt.Errorf("want one signature")
	}
	h := tok.Headers[0]
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != "dpop+jwt" {
		return c, "", fmt.Errorf("typ must be dpop+jwt")
	}
	if h.JSONWebKey == nil || !h.JSONWebKey.IsPublic() {
		return c, "", fmt.Errorf("jwk header with a public key is required")
	}
	if err := tok.Claims(h.JSONWebKey.Key, &c); err != nil {
		return c, "", fmt.Errorf("signature does not match the jwk: %w", err)
	}
	if c.HTM != method {
		return c, "", fmt.Errorf("htm must be %s", method)
	}
	if c.HTU != htu {
		return c, "", fmt.Errorf("htu must be %s", htu)
	}
	if c.IAT == nil {
		return c, "", fmt.Errorf("iat is required")
	}
	if iat := c.IAT.Time(); iat.Before(now.Add(-proofMaxAge)) || iat.After(now.Add(proofMaxAge)) {
		return c, "", fmt.Errorf("iat is too far from the current time")
	}
	if c.JTI == "" {
		return c, "", fmt.Errorf("jti is required")
	}
	if !s.useJTI("proof:"+c.JTI, now.Add(2*proofMaxAge), now) {
		return c, "", fmt.Errorf("jti has already been used")
	}
	thumb, err := h.JSONWebKey.Thumbprint(crypto.SHA256)
	if err != nil {
		return c, "", fmt.Errorf("jwk thumbprint: %w", err)
	}
	return c, base64.RawURLEncoding.EncodeToString(thumb), nil
}

// seenJTI reports whether a token id was used and is still remembered.
func (s *Server) seenJTI(id string, now time.Time) bool {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, seen := a.jtis[id]
	return seen && now.Before(exp)
}

// useJTI records a token id and reports whether it was new.
func (s *Server) useJTI(id string, until, now time.Time) bool {
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.jtis) > 10000 {
		for k, exp := range a.jtis {
			if now.After(exp) {
				delete(a.jtis, k)
			}
		}
	}
	if exp, seen := a.jtis[id]; seen && now.Before(exp) {
		return false
	}
	a.jtis[id] = until
	return true
}

func (s *Server) newNonce(now time.Time) string {
	n := randomToken()
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	for k, exp := range a.nonces {
		if now.After(exp) {
			delete(a.nonces, k)
		}
	}
	a.nonces[n] = now.Add(nonceLifetime)
	return n
}

func (s *Server) validNonce(n string, now time.Time) bool {
	if n == "" {
		return false
	}
	a := &s.auth
	a.mu.Lock()
	defer a.mu.Unlock()
	exp, ok := a.nonces[n]
	return ok && now.Before(exp)
}

func randomToken() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// scopeFor is the OAuth scope an API path needs.
func scopeFor(rel string) string {
	switch bucketFor(rel) {
	case bucketUsers:
		return scopeUsersRead
	case bucketGroups:
		return "okta.groups.read"
	case bucketLogs:
		return "okta.logs.read"
	case bucketApps:
		return "okta.apps.read"
	}
	return ""
}

// authorize checks a request's credentials. It returns status 0 when the
// request may proceed, or the status, error code and summary to answer.
func (s *Server) authorize(r *http.Request, rel string) (int, string, string) {
	const (
		invalid   = "Invalid token provided"
		forbidden = "You do not have permission to perform the requested action"
	)
	scheme, value, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	value = strings.TrimSpace(value)
	switch strings.ToLower(scheme) {
	case "ssws":
		if !s.tokens[value] {
			return http.StatusUnauthorized, "E0000011", invalid
		}
		if bucketFor(rel) == bucketLogs && s.noLogs[value] {
			return http.StatusForbidden, "E0000006", forbidden
		}
		return 0, "", ""
	case "bearer", "dpop":
	default:
		return http.StatusUnauthorized, "E0000011", invalid
	}
	now := s.wall()
	a := &s.auth
	a.mu.Lock()
	tok, ok := a.tokens[value]
	var t accessToken
	if ok {
		t = *tok
	}
	a.mu.Unlock()
	if !ok || !now.Before(t.expires) {
		return http.StatusUnauthorized, "E0000011", invalid
	}
	isDPoP := strings.EqualFold(scheme, "dpop")
	if isDPoP != (t.jkt != "") {
		return http.StatusUnauthorized, "E0000011", invalid
	}
	if isDPoP {
		htu := s.baseURL(r) + strings.TrimPrefix(r.URL.Path, s.prefix)
		c, thumb, err := s.verifyProof(r.Header.Get("DPoP"), r.Method, htu, now)
		if err != nil || thumb != t.jkt {
			return http.StatusUnauthorized, "E0000011", invalid
		}
		sum := sha256.Sum256([]byte(value))
		if c.ATH != base64.RawURLEncoding.EncodeToString(sum[:]) {
			return http.StatusUnauthorized, "E0000011", invalid
		}
	}
	if need := scopeFor(rel); need != "" && !slices.Contains(t.scopes, need) {
		return http.StatusForbidden, "E0000006", forbidden
	}
	return 0, "", ""
}
