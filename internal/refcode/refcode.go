// Package refcode makes the referral codes customers read aloud, type and
// print on cards: eight characters in two groups ("K7PM-4QXT") from an
// alphabet without the look-alikes 0/O and 1/I.
package refcode

import (
	"crypto/rand"
	"math/big"
	"strings"
)

// Alphabet has 32 characters that cannot be mistaken for one another.
const Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"

const groupLen = 4

// New returns a fresh random code such as "K7PM-4QXT" (2^40 possibilities).
func New() string {
	var b strings.Builder
	max := big.NewInt(int64(len(Alphabet)))
	for i := 0; i < 2*groupLen; i++ {
		if i == groupLen {
			b.WriteByte('-')
		}
		n, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic("crypto/rand failed: " + err.Error())
		}
		b.WriteByte(Alphabet[n.Int64()])
	}
	return b.String()
}

// Normalize turns what a person typed ("k7pm 4qxt", "K7PM4QXT", "k7pm-4qxt")
// into the stored form. Characters outside the alphabet (0, O, 1, I) make it
// invalid rather than guessed at. It returns false when s is not a code.
func Normalize(s string) (string, bool) {
	var raw []byte
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
			continue
		case r < 128 && strings.IndexByte(Alphabet, byte(r)) >= 0:
			raw = append(raw, byte(r))
		default:
			return "", false
		}
	}
	if len(raw) != 2*groupLen {
		return "", false
	}
	return string(raw[:groupLen]) + "-" + string(raw[groupLen:]), true
}

// URL is the customer's referral link under the public base URL.
func URL(baseURL, code string) string {
	return strings.TrimRight(baseURL, "/") + "/r/" + code
}

// Channels a link is handed out through. Every link routeloop prints or
// sends carries one (?ch=), so the landing page records where the friend
// found it and the referral made from that visit keeps it.
const (
	ChannelCard    = "card"    // a printed card and its QR code
	ChannelCrew    = "crew"    // the QR code on the crew member's stop
	ChannelInvoice = "invoice" // the customer's invoice page
	ChannelSMS     = "sms"
	ChannelEmail   = "email"
	ChannelSocial  = "social"
)

// LinkChannels are the channels a link can carry, in the order they are
// listed to people.
var LinkChannels = []string{ChannelCard, ChannelCrew, ChannelInvoice, ChannelSMS, ChannelEmail, ChannelSocial}

// WithChannel is a referral link marked with the channel it is handed out
// through.
func WithChannel(link, channel string) string {
	if link == "" {
		return ""
	}
	return link + "?ch=" + channel
}
