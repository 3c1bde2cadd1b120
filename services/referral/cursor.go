package referral

import (
	"encoding/base64"
	"encoding/json"
	"errors"

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
