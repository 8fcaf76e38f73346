package okta

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
)

// defaultScopes are the OAuth scopes requested when OAuthConfig.Scopes is
// empty: enough to list users, groups and group members, not the System Log.
var defaultScopes = []string{"okta.users.read", "okta.groups.read"}

// OAuthConfig configures an Okta OAuth 2.0 service app that authenticates
// with a private-key JWT (client credentials grant).
//
// See https://developer.okta.com/docs/guides/implement-oauth-for-okta-serviceapp/main/
type OAuthConfig struct {
	ClientID string
	// PrivateKey is the app's RSA or EC private key: PEM (PKCS#1, PKCS#8 or
	// SEC1) or a JWK JSON object.
	PrivateKey []byte
	// KeyID is the key's kid in the app's key set; needed when the app has
	// several keys. A JWK's own kid is used when KeyID is empty.
	KeyID string
	// Scopes to request; default okta.users.read okta.groups.read.
	// Add okta.logs.read to read the System Log.
	Scopes []string
}

// NewOAuth returns an Authenticator for an OAuth 2.0 service app. It parses
// and checks the key now, so a bad key fails at start. Access tokens are
// fetched from <org>/oauth2/v1/token with a signed client assertion, cached
// until shortly before they expire, and fetched again once when Okta answers
// 401. DPoP is handled without configuration: when Okta answers a token
// request with invalid_dpop_proof (the app requires DPoP, Okta's default for
// new service apps), token requests carry a DPoP proof from then on, with
// the server's nonce once it asks for one (use_dpop_nonce); and when the
// token response says token_type DPoP, every API call carries a fresh proof
// bound to the token.
//
// See https://developer.okta.com/docs/guides/dpop/oktaresourceserver/main/
func NewOAuth(cfg OAuthConfig) (Authenticator, error) {
	cfg.ClientID = strings.TrimSpace(cfg.ClientID)
	if cfg.ClientID == "" {
		return nil, errors.New("okta oauth: the client ID is empty")
	}
	key, err := parsePrivateKey(cfg.PrivateKey)
	if err != nil {
		return nil, fmt.Errorf("okta oauth: %w", err)
	}
	kid := strings.TrimSpace(cfg.KeyID)
	if kid == "" {
		kid = key.kid
	}
	scopes := make([]string, 0, len(cfg.Scopes))
	for _, s := range cfg.Scopes {
		for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ' ' || r == ',' }) {
			scopes = append(scopes, f)
		}
	}
	if len(scopes) == 0 {
		scopes = append(scopes, defaultScopes...)
	}
	return &oauthAuth{clientID: cfg.ClientID, key: key, kid: kid, scopes: strings.Join(scopes, " ")}, nil
}

type oauthAuth struct {
	clientID string
	key      signingKey
	kid      string
	scopes   string
}

// String keeps the key out of fmt output.
func (a *oauthAuth) String() string {
	return fmt.Sprintf("okta.oauthAuth{clientID:%s, kid:%s, key:REDACTED}", a.clientID, a.kid)
}

// GoString keeps the key out of %#v output.
func (a *oauthAuth) GoString() string { return a.String() }

func (a *oauthAuth) session(c *Client) authSession {
	return &oauthSession{auth: a, c: c, tokenURL: c.base.String() + "/oauth2/v1/token", fetching: make(chan struct{}, 1)}
}

// tokenMargin is how long before its expiry a cached token is replaced.
const tokenMargin = 2 * time.Minute

type oauthSession struct {
	auth     *oauthAuth
	c        *Client
	tokenURL string
	fetching chan struct{} // one token request at a time

	mu        sync.Mutex
	token     string
	tokenType string // "Bearer" or "DPoP"
	expires   time.Time
	dpopKey   *ecdsa.PrivateKey // proof key, made on first use
	dpopSign  jose.Signer
	useDPoP   bool   // the app requires DPoP proofs on token requests
	authNonce string // DPoP nonce of the authorization server
	apiNonce  string // DPoP nonce of the resource server
}

// String keeps the token out of fmt output.
func (s *oauthSession) String() string { return "okta.oauthSession{token:REDACTED}" }

func (s *oauthSession) authorize(ctx context.Context, method string, u *url.URL, h http.Header) (string, error) {
	token, typ, err := s.currentToken(ctx)
	if err != nil {
		return "", err
	}
	if typ != "DPoP" {
		h.Set("Authorization", "Bearer "+token)
		return token, nil
	}
	s.mu.Lock()
	nonce := s.apiNonce
	s.mu.Unlock()
	proof, err := s.proof(method, u, token, nonce)
	if err != nil {
		return "", err
	}
	h.Set("Authorization", "DPoP "+token)
	h.Set("DPoP", proof)
	return token, nil
}

func (s *oauthSession) reject(credential string, h http.Header) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if n := h.Get("DPoP-Nonce"); n != "" && strings.Contains(h.Get("WWW-Authenticate"), "use_dpop_nonce") && n != s.apiNonce {
		s.apiNonce = n
		return true
	}
	if s.token == credential {
		s.token = ""
	}
	// Either this request dropped the token, or another one already did:
	// the next attempt fetches or uses a new one.
	return credential != ""
}

func (s *oauthSession) observe(h http.Header) {
	if n := h.Get("DPoP-Nonce"); n != "" {
		s.mu.Lock()
		s.apiNonce = n
		s.mu.Unlock()
	}
}

// currentToken returns a valid access token and its type, fetching one when
// none is cached or the cached one is about to expire.
func (s *oauthSession) currentToken(ctx context.Context) (string, string, error) {
	if tok, typ, ok := s.cached(); ok {
		return tok, typ, nil
	}
	select {
	case s.fetching <- struct{}{}:
	case <-ctx.Done():
		return "", "", ctx.Err()
	}
	defer func() { <-s.fetching }()
	if tok, typ, ok := s.cached(); ok {
		return tok, typ, nil
	}
	return s.fetch(ctx)
}

func (s *oauthSession) cached() (string, string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.token != "" && s.c.now().Before(s.expires) {
		return s.token, s.tokenType, true
	}
	return "", "", false
}

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
	Scope       string `json:"scope"`
}

// fetch requests an access token: client credentials with a private-key JWT
// assertion and a DPoP proof, switching to DPoP when the app requires it,
// sending again with the server's nonce when it answers use_dpop_nonce, and
// retrying like any request.
func (s *oauthSession) fetch(ctx context.Context) (string, string, error) {
	c := s.c
	tokenURL, err := url.Parse(s.tokenURL)
	if err != nil {
		return "", "", fmt.Errorf("okta oauth: token URL: %w", err)
	}
	nonceRetries := 0
	var sentDPoP bool // whether the latest attempt carried a proof
	req := &request{
		method: http.MethodPost,
		url:    tokenURL,
		bucket: BucketOther,
		authorize: func(_ context.Context, h http.Header) (string, url.Values, error) {
			assertion, err := s.assertion()
			if err != nil {
				return "", nil, err
			}
			form := url.Values{
				"grant_type":            {"client_credentials"},
				"scope":                 {s.auth.scopes},
				"client_assertion_type": {"urn:ietf:params:oauth:client-assertion-type:jwt-bearer"},
				"client_assertion":      {assertion},
			}
			s.mu.Lock()
			nonce, useDPoP := s.authNonce, s.useDPoP
			s.mu.Unlock()
			sentDPoP = useDPoP
			if useDPoP {
				proof, err := s.proof(http.MethodPost, tokenURL, "", nonce)
				if err != nil {
					return "", nil, err
				}
				h.Set("DPoP", proof)
			}
			return "", form, nil
		},
		observe: func(h http.Header) {
			if n := h.Get("DPoP-Nonce"); n != "" {
				s.mu.Lock()
				s.authNonce = n
				s.mu.Unlock()
			}
		},
		reauthorize: func(_ string, h http.Header, e *Error) bool {
			switch {
			case e.Code == "invalid_dpop_proof" && !sentDPoP:
				// The app requires DPoP: from now on every token request
				// carries a proof.
				s.mu.Lock()
				s.useDPoP = true
				s.mu.Unlock()
				c.log.Debug().Msg("okta OAuth app requires DPoP, sending proofs")
				return true
			case e.Code == "use_dpop_nonce" && sentDPoP && h.Get("DPoP-Nonce") != "" && nonceRetries < 2:
				nonceRetries++
				return true
			}
			return false
		},
		readError: readTokenError,
	}
	start := c.now()
	var (
		tr     tokenResponse
		parsed error
	)
	_, err = c.do(ctx, req, func(body []byte) error {
		tr = tokenResponse{}
		parsed = json.Unmarshal(body, &tr)
		return nil
	})
	if err != nil {
		if ctx.Err() != nil && errors.Is(err, ctx.Err()) {
			return "", "", fmt.Errorf("okta oauth: token request: %w", ctx.Err())
		}
		return "", "", err
	}
	if parsed != nil || tr.AccessToken == "" {
		return "", "", errors.New("okta oauth: token response holds no access token")
	}
	typ := "Bearer"
	switch {
	case strings.EqualFold(tr.TokenType, "DPoP"):
		typ = "DPoP"
	case tr.TokenType == "" || strings.EqualFold(tr.TokenType, "Bearer"):
	default:
		return "", "", fmt.Errorf("okta oauth: unsupported token type %q", tr.TokenType)
	}
	lifetime := time.Duration(tr.ExpiresIn) * time.Second
	if lifetime <= 0 {
		lifetime = time.Hour
	}
	margin := min(tokenMargin, lifetime/10)
	s.mu.Lock()
	s.token, s.tokenType, s.expires = tr.AccessToken, typ, start.Add(lifetime-margin)
	s.mu.Unlock()
	c.log.Debug().Str("token_type", typ).Dur("lifetime", lifetime).Str("scope", tr.Scope).Msg("okta access token obtained")
	return tr.AccessToken, typ, nil
}

// readTokenError fills e from the token endpoint's error body: OAuth's
// error and error_description, or an API error body.
func readTokenError(e *Error, body []byte) {
	var b errorBody
	if json.Unmarshal(body, &b) != nil {
		return
	}
	e.Code, e.Summary = b.OAuthError, b.OAuthDescription
	if e.Code == "" {
		e.Code, e.Summary, e.ID, e.Link = b.ErrorCode, b.ErrorSummary, b.ErrorID, b.ErrorLink
	}
}

// assertion returns a fresh client assertion: a JWT signed with the app's
// key, iss = sub = client ID, aud = the token endpoint, valid 5 minutes.
func (s *oauthSession) assertion() (string, error) {
	opts := (&jose.SignerOptions{}).WithType("JWT")
	if s.auth.kid != "" {
		opts = opts.WithHeader(jose.HeaderKey("kid"), s.auth.kid)
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: s.auth.key.alg, Key: s.auth.key.key}, opts)
	if err != nil {
		return "", fmt.Errorf("okta oauth: client assertion signer: %w", err)
	}
	now := s.c.now()
	claims := jwt.Claims{
		Issuer:    s.auth.clientID,
		Subject:   s.auth.clientID,
		Audience:  jwt.Audience{s.tokenURL},
		IssuedAt:  jwt.NewNumericDate(now),
		NotBefore: jwt.NewNumericDate(now.Add(-30 * time.Second)),
		Expiry:    jwt.NewNumericDate(now.Add(5 * time.Minute)),
		ID:        randomID(),
	}
	a, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("okta oauth: sign client assertion: %w", err)
	}
	return a, nil
}

type dpopClaims struct {
	JTI   string `json:"jti"`
	HTM   string `json:"htm"`
	HTU   string `json:"htu"`
	IAT   int64  `json:"iat"`
	ATH   string `json:"ath,omitempty"`
	Nonce string `json:"nonce,omitempty"`
}

// proof returns a DPoP proof for a request: typ dpop+jwt, the proof key's
// public JWK in the header, claims htm, htu (the URL without query and
// fragment), iat, jti, and ath = base64url(SHA-256(token)) when a token is
// sent. The proof key is an ephemeral P-256 key of this session, distinct
// from the client-assertion key.
//
// See https://www.rfc-editor.org/rfc/rfc9449#section-4.2
func (s *oauthSession) proof(method string, u *url.URL, token, nonce string) (string, error) {
	signer, err := s.dpopSigner()
	if err != nil {
		return "", err
	}
	htu := url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path, RawPath: u.RawPath}
	claims := dpopClaims{JTI: randomID(), HTM: method, HTU: htu.String(), IAT: s.c.now().Unix(), Nonce: nonce}
	if token != "" {
		sum := sha256.Sum256([]byte(token))
		claims.ATH = base64.RawURLEncoding.EncodeToString(sum[:])
	}
	p, err := jwt.Signed(signer).Claims(claims).Serialize()
	if err != nil {
		return "", fmt.Errorf("okta oauth: sign DPoP proof: %w", err)
	}
	return p, nil
}

func (s *oauthSession) dpopSigner() (jose.Signer, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.dpopSign != nil {
		return s.dpopSign, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("okta oauth: DPoP key: %w", err)
	}
	opts := (&jose.SignerOptions{EmbedJWK: true}).WithType("dpop+jwt")
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.ES256, Key: k}, opts)
	if err != nil {
		return nil, fmt.Errorf("okta oauth: DPoP signer: %w", err)
	}
	s.dpopKey, s.dpopSign = k, signer
	return signer, nil
}

// randomID returns 128 random bits, base64url-encoded, for jti claims.
func randomID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
