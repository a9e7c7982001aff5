package identitycenter

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// passwordLength is the length of the break-glass password: well above
// IAM's default minimum of 8 and the 20 asked of this tool, well below its
// maximum of 128.
const passwordLength = 32

// passwordClasses are the character classes of IAM's password policy. A
// generated password has at least one of each, so it meets any policy that
// requires some of them. The symbols are the ones IAM counts as symbols.
var passwordClasses = []string{
	"ABCDEFGHIJKLMNOPQRSTUVWXYZ",
	"abcdefghijklmnopqrstuvwxyz",
	"0123456789",
	"!@#$%^&*()_+-=[]{}|'",
}

// generatePassword returns a random password of passwordLength characters
// with at least one character of every class, from crypto/rand.
func generatePassword() (string, error) {
	all := strings.Join(passwordClasses, "")
	password := make([]byte, 0, passwordLength)
	for _, class := range passwordClasses {
		c, err := randomChar(class)
		if err != nil {
			return "", err
		}
		password = append(password, c)
	}
	for len(password) < passwordLength {
		c, err := randomChar(all)
		if err != nil {
			return "", err
		}
		password = append(password, c)
	}
	// Shuffle, so the first four characters are not always one of each
	// class in the same order (Fisher-Yates).
	for i := len(password) - 1; i > 0; i-- {
		j, err := randomInt(i + 1)
		if err != nil {
			return "", err
		}
		password[i], password[j] = password[j], password[i]
	}
	return string(password), nil
}

func randomChar(alphabet string) (byte, error) {
	i, err := randomInt(len(alphabet))
	if err != nil {
		return 0, err
	}
	return alphabet[i], nil
}

// randomInt is uniform in [0, n).
func randomInt(n int) (int, error) {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		return 0, err
	}
	return int(v.Int64()), nil
}
