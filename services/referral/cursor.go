package referral

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"net"
	"net/url"

	"github.com/google/uuid"
)

// nameCursor is the position after which the next page of the registry starts (ordered by
// name, then id).
type nameCursor struct {
	Name   string    `json:"n"`
	ID     uuid.UUID `json:"id"`
	Filter []byte    `json:"f"`
}

func encodeNameCursor(c nameCursor, filter []byte) string {
	c.Filter = filter
	b, _ := json.Marshal(c) // a string, a UUID and bytes always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeNameCursor(tok string, filter []byte) (nameCursor, error) {
	var c nameCursor
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return c, err
	}
	if string(c.Filter) != string(filter) || c.ID == uuid.Nil {
		return c, errors.New("page token for other filters")
	}
	return c, nil
}

// secureURL reports whether a webhook URL may receive events: https, or http to a loopback
// address (a partner's development receiver, the tests' own).
func secureURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil {
		return false
	}
	switch u.Scheme {
	case "https":
		return true
	case "http":
		ip := net.ParseIP(u.Hostname())
		return u.Hostname() == "localhost" || (ip != nil && ip.IsLoopback())
	}
	return false
}
