package okta

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"

	"github.com/go-jose/go-jose/v4"
)

// signingKey is a parsed private key with the JWS algorithm to sign with.
type signingKey struct {
	key crypto.Signer
	alg jose.SignatureAlgorithm
	kid string // from a JWK's "kid", when present
}

// parsePrivateKey parses an RSA or EC private key given as PEM (PKCS#1
// "RSA PRIVATE KEY", PKCS#8 "PRIVATE KEY", SEC1 "EC PRIVATE KEY"), as a JWK
// JSON object, or as a JWK set holding one private key. A PEM pasted into an
// environment variable with literal "\n" sequences is accepted too. Errors
// never quote the key.
func parsePrivateKey(data []byte) (signingKey, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return signingKey{}, errors.New("private key is empty")
	}
	if data[0] == '{' {
		return parseJWK(data)
	}
	if !bytes.Contains(data, []byte("\n")) && bytes.Contains(data, []byte(`\n`)) {
		data = bytes.ReplaceAll(data, []byte(`\n`), []byte("\n"))
	}
	rest := data
	sawPEM := false
	for {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		sawPEM = true
		switch block.Type {
		case "EC PARAMETERS":
			continue // openssl ecparam -genkey writes these before the key
		case "RSA PRIVATE KEY", "EC PRIVATE KEY", "PRIVATE KEY":
			k, err := parsePEMPrivateKey(block)
			if err != nil {
				return signingKey{}, err
			}
			return newSigningKey(k, "")
		case "ENCRYPTED PRIVATE KEY":
			return signingKey{}, errors.New("private key is encrypted: give it unencrypted (openssl pkcs8 -topk8 -nocrypt)")
		case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
			return signingKey{}, fmt.Errorf("got a %s, want the private key", block.Type)
		default:
			return signingKey{}, fmt.Errorf("unsupported PEM block %q, want RSA PRIVATE KEY, EC PRIVATE KEY or PRIVATE KEY", block.Type)
		}
	}
	if sawPEM {
		return signingKey{}, errors.New("no private key in the PEM data")
	}
	return signingKey{}, errors.New("private key is neither PEM nor a JWK")
}

// parsePEMPrivateKey parses an RSA PRIVATE KEY (PKCS#1), EC PRIVATE KEY
// (SEC1) or PRIVATE KEY (PKCS#8) block.
func parsePEMPrivateKey(block *pem.Block) (any, error) {
	var (
		k    any
		err  error
		form string
	)
	switch block.Type {
	case "RSA PRIVATE KEY":
		k, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		form = "PKCS#1 RSA"
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(block.Bytes)
		form = "SEC1 EC"
	default:
		k, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		form = "PKCS#8"
	}
	if err != nil {
		return nil, fmt.Errorf("parse %s private key: %w", form, err)
	}
	return k, nil
}

func parseJWK(data []byte) (signingKey, error) {
	var set struct {
		Keys []json.RawMessage `json:"keys"`
	}
	if err := json.Unmarshal(data, &set); err == nil && set.Keys != nil {
		if len(set.Keys) != 1 {
			return signingKey{}, fmt.Errorf("JWK set holds %d keys, want exactly one", len(set.Keys))
		}
		data = set.Keys[0]
	}
	var jwk jose.JSONWebKey
	if err := jwk.UnmarshalJSON(data); err != nil {
		// The error may quote the input: do not wrap it.
		return signingKey{}, errors.New("private key looks like JSON but is not a valid JWK")
	}
	if jwk.IsPublic() {
		return signingKey{}, errors.New("JWK is a public key, want the private key (with \"d\")")
	}
	sk, err := newSigningKey(jwk.Key, jwk.KeyID)
	if err != nil {
		return signingKey{}, err
	}
	if jwk.Algorithm != "" {
		alg := jose.SignatureAlgorithm(jwk.Algorithm)
		if !algFits(sk.key, alg) {
			return signingKey{}, fmt.Errorf("JWK alg %q does not fit its key type", jwk.Algorithm)
		}
		sk.alg = alg
	}
	return sk, nil
}

func newSigningKey(k any, kid string) (signingKey, error) {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		if k.N.BitLen() < 2048 {
			return signingKey{}, fmt.Errorf("RSA key has %d bits, Okta requires at least 2048", k.N.BitLen())
		}
		return signingKey{key: k, alg: jose.RS256, kid: kid}, nil
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return signingKey{key: k, alg: jose.ES256, kid: kid}, nil
		case elliptic.P384():
			return signingKey{key: k, alg: jose.ES384, kid: kid}, nil
		case elliptic.P521():
			return signingKey{key: k, alg: jose.ES512, kid: kid}, nil
		}
		return signingKey{}, fmt.Errorf("EC key on curve %s is not supported, want P-256, P-384 or P-521", k.Curve.Params().Name)
	}
	return signingKey{}, fmt.Errorf("private key of type %T is not supported, want RSA or EC", k)
}

func algFits(k crypto.Signer, alg jose.SignatureAlgorithm) bool {
	switch k := k.(type) {
	case *rsa.PrivateKey:
		return alg == jose.RS256 || alg == jose.RS384 || alg == jose.RS512
	case *ecdsa.PrivateKey:
		switch k.Curve {
		case elliptic.P256():
			return alg == jose.ES256
		case elliptic.P384():
			return alg == jose.ES384
		case elliptic.P521():
			return alg == jose.ES512
		}
	}
	return false
}
