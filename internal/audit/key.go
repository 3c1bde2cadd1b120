package audit

import (
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/tink"

	"github.com/passage-cm/passage/internal/vault"
)

// DevKeyFile is the development audit keyset's file name in the dev key directory, beside
// the vault's keysets.
const DevKeyFile = "audit.json"

// Key is the audit chain's MAC key (HMAC-SHA256, 256-bit tags, a Tink keyset). The
// application holds it; it is never stored in the database, so whoever has a dump or the
// owner's rights cannot recompute a chain they altered. A keyset may hold several keys:
// links are made with the primary one and checked against all, so the key can rotate.
type Key struct {
	mac tink.MAC
}

// NewKey builds a Key from a MAC keyset handle.
func NewKey(h *keyset.Handle) (*Key, error) {
	if h == nil {
		return nil, errors.New("audit: nil keyset handle")
	}
	m, err := mac.New(h)
	if err != nil {
		return nil, fmt.Errorf("audit: keyset is not a usable MAC keyset: %w", err)
	}
	return &Key{mac: m}, nil
}

// LoadKey reads the audit keyset (PASSAGE_AUDIT_KEYSET). It never creates one.
func LoadKey(path string) (*Key, error) {
	h, err := vault.ReadKeyset(path)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return NewKey(h)
}

// LoadOrCreateDevKey loads dir/audit.json, generating it when missing. DEVELOPMENT ONLY:
// the key is stored in cleartext.
func LoadOrCreateDevKey(dir string) (*Key, error) {
	h, err := vault.LoadOrCreateDevKeyset(filepath.Join(dir, DevKeyFile), mac.HMACSHA256Tag256KeyTemplate)
	if err != nil {
		return nil, fmt.Errorf("audit key: %w", err)
	}
	return NewKey(h)
}

// link returns the MAC binding r, at position in its mission's chain, to the link before.
func (k *Key) link(r stored, position int64, prev []byte) ([]byte, error) {
	tag, err := k.mac.ComputeMAC(canonical(r, position, prev))
	if err != nil {
		return nil, fmt.Errorf("audit: compute link: %w", err)
	}
	return tag, nil
}

// check reports whether tag is the MAC of r at position after prev, under any of the
// keyset's keys.
func (k *Key) check(tag []byte, r stored, position int64, prev []byte) bool {
	return k.mac.VerifyMAC(tag, canonical(r, position, prev)) == nil
}

// stored is a record as read back from audit.record.
type stored struct {
	ID              int64
	TxID            string
	Mission         string
	Actor           string
	Role            string
	CallerMission   string
	Method          string
	AggregateID     uuid.UUID // uuid.Nil when NULL
	Reason          string
	RequestID       string
	ClientRequestID uuid.UUID // uuid.Nil when NULL
	OccurredAt      time.Time
}

// canonicalVersion is the first byte of the MACed bytes, so the encoding can change without
// one encoding's bytes ever being read as another's.
const canonicalVersion = 1

// canonical is the unambiguous byte form of a link's content: every field of the record
// (its id and transaction id included, so a record cannot be moved), the link's position
// and the previous link's MAC. Strings are length-prefixed, so no two different records
// share an encoding.
func canonical(r stored, position int64, prev []byte) []byte {
	b := make([]byte, 0, 256)
	b = append(b, canonicalVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(position))
	b = binary.BigEndian.AppendUint64(b, uint64(r.ID))
	for _, s := range []string{r.TxID, r.Mission, r.Actor, r.Role, r.CallerMission, r.Method, r.Reason, r.RequestID} {
		b = appendBytes(b, []byte(s))
	}
	b = append(b, r.AggregateID[:]...)
	b = append(b, r.ClientRequestID[:]...)
	b = binary.BigEndian.AppendUint64(b, uint64(r.OccurredAt.UnixMicro()))
	return appendBytes(b, prev)
}

func appendBytes(b, s []byte) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}
