package pagetoken

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
)

// Cursor is the position after which the next page starts, in a list ordered by time, then
// id, newest first.
type Cursor struct {
	Time time.Time `json:"t"`
	ID   uuid.UUID `json:"id"`
}

// token is what a page token encodes. The JSON names are the wire format of tokens already
// handed to clients: they must not change.
type token struct {
	Cursor
	Filter []byte `json:"f"`
}

// DefaultSize is a page's size when a request names none; MaxSize the largest a request gets.
const (
	DefaultSize = 25
	MaxSize     = 100
)

// Size returns the page size for a request's page_size: DefaultSize when unset, and never
// more than MaxSize.
func Size(requested int32) int {
	if requested <= 0 {
		return DefaultSize
	}
	return min(int(requested), MaxSize)
}

// Mismatch is the page_token field violation's description for a token Decode refuses.
const Mismatch = "is not a token from a previous response with the same filters"

// errOtherFilters is a well-formed token issued for other filters.
var errOtherFilters = errors.New("page token for other filters")

// Filter hashes a list request's filters, written as one string ("<mission>|<status>"), to
// the short digest a token is bound to. The digest only tells filters apart; it is no secret.
func Filter(filters string) []byte {
	h := sha256.Sum256([]byte(filters))
	return h[:8]
}

// Encode returns the token of the page after c, for the filters hashed as filter.
func Encode(c Cursor, filter []byte) string {
	b, _ := json.Marshal(token{Cursor: c, Filter: filter}) // a time, a UUID and bytes always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// Decode returns the cursor of tok, which must have been issued for the same filter. The
// error is for the service to turn into a field violation of page_token; its text is not
// meant for the client.
func Decode(tok string, filter []byte) (*Cursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return nil, err
	}
	var p token
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, err
	}
	if string(p.Filter) != string(filter) || p.ID == uuid.Nil {
		return nil, errOtherFilters
	}
	return &p.Cursor, nil
}
