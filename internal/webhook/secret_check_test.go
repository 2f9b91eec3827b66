package webhook

import (
	"errors"
	"fmt"
	"strings"
)

// CheckSecret explains why s is not a usable secret, or returns nil: what
// the tests hold a generated secret to.
func CheckSecret(s string) error {
	if !strings.HasPrefix(s, secretPrefix) {
		return fmt.Errorf("a secret starts with %s", secretPrefix)
	}
	key, err := secretKey(s)
	if err != nil || len(key) < 16 {
		return errors.New("a secret is whsec_ followed by at least 16 base64-encoded bytes")
	}
	return nil
}
