package idempotency

import (
	"errors"
	"fmt"

	"github.com/google/uuid"
	"google.golang.org/protobuf/proto"
)

// ErrInvalidRequestID is a request id that is not a UUID. Protovalidate refuses those before a
// handler runs; a service maps this one to INVALID_ARGUMENT on request_id all the same, so that
// a handler stays safe without the validation stage.
var ErrInvalidRequestID = errors.New("request_id: must be a UUID")

// Fingerprinter makes keyed digests of data in a named domain; *vault.Keyring is one. Keyed,
// so that a stored fingerprint reveals nothing of a request's personal data.
type Fingerprinter interface {
	Fingerprint(domain string, data []byte) []byte
}

// NewKey keys a mutating request by the caller's mission and its request id, with a keyed
// fingerprint of the request so that a reused id for another request is refused. method names
// the RPC and is the fingerprint's domain. The request is marshalled deterministically, so a
// retry of the same request has the same fingerprint.
func NewKey(f Fingerprinter, mission, requestID, method string, req proto.Message) (Key, error) {
	id, err := uuid.Parse(requestID)
	if err != nil {
		return Key{}, ErrInvalidRequestID
	}
	body, err := proto.MarshalOptions{Deterministic: true}.Marshal(req)
	if err != nil {
		return Key{}, fmt.Errorf("fingerprint request: %w", err)
	}
	return Key{
		Mission:     mission,
		RequestID:   id,
		Method:      method,
		Fingerprint: f.Fingerprint(method, body),
	}, nil
}
