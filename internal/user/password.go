package user

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Password length limits: bcrypt reads at most 72 bytes, so a longer
// password is refused rather than silently cut.
const (
	MinPasswordLen = 10
	MaxPasswordLen = 72
)

// cost is the bcrypt work factor (about 50–100 ms a check on a small
// server). The package's own tests lower it (export_test.go): they check
// the rules around passwords, not bcrypt's strength.
var cost = bcrypt.DefaultCost

// CheckPassword says whether p is acceptable as a password.
func CheckPassword(p string) error {
	switch {
	case utf8.RuneCountInString(p) < MinPasswordLen:
		return fmt.Errorf("must be at least %d characters", MinPasswordLen)
	case len(p) > MaxPasswordLen:
		return fmt.Errorf("must be at most %d bytes", MaxPasswordLen)
	}
	return nil
}

// GeneratePassword returns a random password of 24 URL-safe characters
// (144 bits).
func GeneratePassword() string {
	b := make([]byte, 18)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashPassword(p string) (string, error) {
	h, err := bcrypt.GenerateFromPassword([]byte(p), cost)
	if err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	return string(h), nil
}

// passwordMatches runs bcrypt; a password over 72 bytes never matches.
func passwordMatches(hash, p string) bool {
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(p))
	return err == nil
}

var (
	dummyOnce sync.Once
	dummy     string
)

// dummyHash is compared against when no user has the e-mail, so the answer
// costs one bcrypt either way.
func dummyHash() string {
	dummyOnce.Do(func() {
		h, err := bcrypt.GenerateFromPassword([]byte(GeneratePassword()), cost)
		if err != nil {
			panic(errors.New("bcrypt: " + err.Error()))
		}
		dummy = string(h)
	})
	return dummy
}
