package okta

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"strings"
	"sync"
	"testing"

	"github.com/go-jose/go-jose/v4"
)

// testKeys are generated once: RSA key generation is slow.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, *ecdsa.PrivateKey) {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	e, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		panic(err)
	}
	return r, e
})

// TestKeys are testKeys for the package's external tests.
var TestKeys = testKeys

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParsePrivateKey(t *testing.T) {
	t.Parallel()
	rsaKey, ecKey := testKeys()
	rsaPKCS8, _ := x509.MarshalPKCS8PrivateKey(rsaKey)
	ecPKCS8, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	ecSEC1, _ := x509.MarshalECPrivateKey(ecKey)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	p384SEC1, _ := x509.MarshalECPrivateKey(p384)
	rsaPub, _ := x509.MarshalPKIXPublicKey(&rsaKey.PublicKey)
	small, _ := rsa.GenerateKey(rand.Reader, 1024)
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	jwk := jose.JSONWebKey{Key: rsaKey, KeyID: "kid-1", Algorithm: "RS384"}
	ecJWK := jose.JSONWebKey{Key: ecKey, KeyID: "ec-1"}

	tests := []struct {
		name    string
		data    []byte
		wantAlg jose.SignatureAlgorithm
		wantKID string
		wantErr string
	}{
		{"PKCS#1 RSA", pkcs1, jose.RS256, "", ""},
		{"PKCS#8 RSA", pemBlock("PRIVATE KEY", rsaPKCS8), jose.RS256, "", ""},
		{"PKCS#8 EC", pemBlock("PRIVATE KEY", ecPKCS8), jose.ES256, "", ""},
		{"SEC1 EC", pemBlock("EC PRIVATE KEY", ecSEC1), jose.ES256, "", ""},
		{"SEC1 P-384 after EC PARAMETERS", append(pemBlock("EC PARAMETERS", []byte{6, 5, 43, 129, 4, 0, 34}), pemBlock("EC PRIVATE KEY", p384SEC1)...), jose.ES384, "", ""},
		{"escaped newlines", []byte(strings.ReplaceAll(string(pkcs1), "\n", `\n`)), jose.RS256, "", ""},
		{"RSA JWK with kid and alg", mustJSON(t, jwk), jose.RS384, "kid-1", ""},
		{"EC JWK set", mustJSON(t, map[string]any{"keys": []any{ecJWK}}), jose.ES256, "ec-1", ""},
		{"empty", nil, "", "", "empty"},
		{"garbage", []byte("not a key"), "", "", "neither PEM nor a JWK"},
		{"public key", pemBlock("PUBLIC KEY", rsaPub), "", "", "want the private key"},
		{"encrypted", pemBlock("ENCRYPTED PRIVATE KEY", []byte{1, 2, 3}), "", "", "encrypted"},
		{"short RSA", pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(small)), "", "", "at least 2048"},
		{"corrupt PKCS#1", pemBlock("RSA PRIVATE KEY", []byte("corrupt-der-bytes")), "", "", "PKCS#1"},
		{"public JWK", mustJSON(t, jose.JSONWebKey{Key: &ecKey.PublicKey}), "", "", "public key"},
		{"JWK with a wrong alg", mustJSON(t, jose.JSONWebKey{Key: ecKey, Algorithm: "RS256"}), "", "", "does not fit"},
		{"broken JWK", []byte(`{"kty":"RSA","d":"secret-material"}`), "", "", "not a valid JWK"},
		{"JWK set of two", mustJSON(t, map[string]any{"keys": []any{ecJWK, ecJWK}}), "", "", "2 keys"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			k, err := parsePrivateKey(tt.data)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-material") || strings.Contains(err.Error(), "MII") {
					t.Errorf("error %q quotes the key", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.alg != tt.wantAlg || k.kid != tt.wantKID {
				t.Errorf("alg, kid = %s, %q, want %s, %q", k.alg, k.kid, tt.wantAlg, tt.wantKID)
			}
		})
	}
}

func x509PKCS1(k *rsa.PrivateKey) []byte { return x509.MarshalPKCS1PrivateKey(k) }

func x509SEC1(k *ecdsa.PrivateKey) []byte {
	b, err := x509.MarshalECPrivateKey(k)
	if err != nil {
		panic(err)
	}
	return b
}
