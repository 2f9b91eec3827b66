package user

import "golang.org/x/crypto/bcrypt"

// The tests hash with bcrypt's least work: what they check is who may sign
// in and when, which does not depend on the work factor (and under the race
// detector the default factor made this package's tests take minutes).
func init() { cost = bcrypt.MinCost }
