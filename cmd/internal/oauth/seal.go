package oauth

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
)

// MinKeyLength is the shortest SKIMMER_OAUTH_KEY accepted: 32 bytes, e.g.
// the 64 characters of `openssl rand -hex 32`.
const MinKeyLength = 32

// errUnsealed is every reason a sealed value does not open: not ours,
// tampered with, sealed for another purpose or under a key no longer held.
// Callers do not learn which, and neither does an attacker.
var errUnsealed = errors.New("not a valid value")

// sealer encrypts and authenticates what the server hands out and must
// read back unchanged: access and refresh tokens, client ids, authorization
// codes in the store, the sign-in form's request. AES-256-GCM, under a key
// derived from SKIMMER_OAUTH_KEY; values sealed under the previous key
// still open, so the key can be rotated without signing everyone out.
//
// A sealed value is: version (1 byte), key id (4), nonce (12), ciphertext.
// The purpose is the additional data, so an access token can never be
// presented as a refresh token or a client id.
type sealer struct {
	keys []sealKey // the current key first
}

type sealKey struct {
	id   [4]byte
	aead cipher.AEAD
	mac  []byte // for values that are derived rather than sealed
}

const sealVersion = 1

func newSealer(secrets ...string) (*sealer, error) {
	s := &sealer{}
	for i, secret := range secrets {
		if secret == "" && i > 0 {
			continue
		}
		if len(secret) < MinKeyLength {
			return nil, fmt.Errorf("the key is %d characters long; use at least %d random characters, made with `openssl rand -hex 32`", len(secret), MinKeyLength)
		}
		raw, err := hkdf.Key(sha256.New, []byte(secret), nil, "skimmer-mcp oauth v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(raw)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		mac, err := hkdf.Key(sha256.New, []byte(secret), nil, "skimmer-mcp oauth mac v1", 32)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append([]byte("key id "), raw...))
		k := sealKey{aead: aead, mac: mac}
		copy(k.id[:], sum[:4])
		s.keys = append(s.keys, k)
	}
	return s, nil
}

// seal encrypts plain for purpose under the current key, as base64url.
func (s *sealer) seal(purpose string, plain []byte) string {
	k := s.keys[0]
	out := make([]byte, 1+4+12, 1+4+12+len(plain)+16)
	out[0] = sealVersion
	copy(out[1:5], k.id[:])
	if _, err := rand.Read(out[5:17]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	out = k.aead.Seal(out, out[5:17], plain, []byte(purpose))
	return base64.RawURLEncoding.EncodeToString(out)
}

// open reverses seal, under whichever held key sealed the value.
func (s *sealer) open(purpose, sealed string) ([]byte, error) {
	raw, err := base64.RawURLEncoding.DecodeString(sealed)
	if err != nil || len(raw) < 1+4+12+16 || raw[0] != sealVersion {
		return nil, errUnsealed
	}
	for _, k := range s.keys {
		if [4]byte(raw[1:5]) != k.id {
			continue
		}
		plain, err := k.aead.Open(nil, raw[5:17], raw[17:], []byte(purpose))
		if err != nil {
			return nil, errUnsealed
		}
		return plain, nil
	}
	return nil, errUnsealed
}

// derive returns an HMAC of data for purpose under the current key:
// a value the server can recompute rather than store, such as a client's
// secret.
func (s *sealer) derive(purpose, data string) string {
	return deriveWith(s.keys[0].mac, purpose, data)
}

// verifyDerived reports whether value is what derive gave for data under
// any held key, in constant time.
func (s *sealer) verifyDerived(purpose, data, value string) bool {
	ok := false
	for _, k := range s.keys {
		if hmac.Equal([]byte(deriveWith(k.mac, purpose, data)), []byte(value)) {
			ok = true
		}
	}
	return ok
}

func deriveWith(key []byte, purpose, data string) string {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(data))
	return base64.RawURLEncoding.EncodeToString(h.Sum(nil))
}
