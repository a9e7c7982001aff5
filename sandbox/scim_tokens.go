package sandbox

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// SCIM access tokens, as the Identity Center console manages them: a token
// is shown once when created, lasts one year, and at most two exist at once
// (expired ones count until deleted), which is what makes rotation
// "create new, switch the IdP to it, delete old". The sandbox keeps only a
// SHA-256 of each token, never the token.

// scimTokenLifetime is how long a SCIM access token is valid.
const scimTokenLifetime = 1 // year

// scimMaxTokens is how many SCIM access tokens may exist at once.
const scimMaxTokens = 2

// ErrSCIMTokenLimit refuses a third SCIM access token.
var ErrSCIMTokenLimit = errors.New("at most two SCIM access tokens can exist at once: delete one (an expired one first) in the console, then create the new one")

// ErrSCIMTokenNotFound is a DeleteToken of a token ID that does not exist.
var ErrSCIMTokenNotFound = errors.New("no SCIM access token has this ID: list the tokens to see which exist")

// TokenInfo describes a SCIM access token without its value.
type TokenInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

type scimToken struct {
	TokenInfo
	sha256 [sha256.Size]byte
}

// CreateToken creates a SCIM access token valid for one year from now (the
// server's clock) and returns its ID, its value (shown this once) and its
// expiry. A third token is refused with ErrSCIMTokenLimit.
func (s *scimServer) CreateToken() (id, token string, expiresAt time.Time, err error) {
	var secret [48]byte
	if _, err := rand.Read(secret[:]); err != nil {
		return "", "", time.Time{}, fmt.Errorf("create SCIM access token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(secret[:])
	now := s.clock()

	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.tokens) >= scimMaxTokens {
		return "", "", time.Time{}, ErrSCIMTokenLimit
	}
	info := TokenInfo{ID: newRandomUUID(), CreatedAt: now, ExpiresAt: now.AddDate(scimTokenLifetime, 0, 0)}
	s.tokens = append(s.tokens, scimToken{TokenInfo: info, sha256: sha256.Sum256([]byte(token))})
	return info.ID, token, info.ExpiresAt, nil
}

// DeleteToken deletes a SCIM access token; requests with it fail from now on.
func (s *scimServer) DeleteToken(id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := slices.IndexFunc(s.tokens, func(t scimToken) bool { return t.ID == id })
	if i < 0 {
		return ErrSCIMTokenNotFound
	}
	s.tokens = slices.Delete(s.tokens, i, i+1)
	return nil
}

// DeleteAllTokens deletes every SCIM access token, as reverting the identity
// source to the built-in directory does.
func (s *scimServer) DeleteAllTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.tokens = nil
}

// Tokens lists the SCIM access tokens, oldest first, without their values.
func (s *scimServer) Tokens() []TokenInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	infos := make([]TokenInfo, 0, len(s.tokens))
	for _, t := range s.tokens {
		infos = append(infos, t.TokenInfo)
	}
	// Tokens created at the same instant stay in creation order.
	slices.SortStableFunc(infos, func(a, b TokenInfo) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return infos
}

// authorized reports whether automatic provisioning is enabled and an
// Authorization header carries a bearer token that exists and has not
// expired.
func (s *scimServer) authorized(header string) bool {
	scheme, token, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
		return false
	}
	sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
	now := s.clock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.enabled {
		return false
	}
	for _, t := range s.tokens {
		if subtle.ConstantTimeCompare(sum[:], t.sha256[:]) == 1 {
			return now.Before(t.ExpiresAt)
		}
	}
	return false
}

// setProvisioning turns automatic provisioning on or off. Off deletes every
// token, so turning it on again starts with a new one, as the console's
// Enable does.
func (s *scimServer) setProvisioning(enabled bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.enabled = enabled
	if !enabled {
		s.tokens = nil
	}
}

// provisioningEnabled reports whether automatic provisioning is on.
func (s *scimServer) provisioningEnabled() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.enabled
}
