package vault

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/tink"
	"google.golang.org/protobuf/proto"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// ErrUndecryptable reports that a sealed identity could not be authenticated: a wrong
// subject id, tampered bytes, or a key-encryption key that never wrapped this data key.
// It deliberately says no more than that.
var ErrUndecryptable = errors.New("vault: sealed identity cannot be decrypted")

// identityLabel separates identity ciphertexts from anything else a data key might one day
// encrypt, and versions the plaintext format.
const identityLabel = "passage.vault.identity.v1"

var (
	errNilSubject = errors.New("vault: nil subject id")
	errNilPerson  = errors.New("vault: nil person")
)

// Sealed is one person's identity at rest: their data key (a Tink keyset encrypted by the
// KEK, in Tink's binary EncryptedKeyset format, which records the id of the KEK key that
// wrapped it) and the identity encrypted with that data key. Destroying WrappedKey erases
// the person.
type Sealed struct {
	WrappedKey []byte
	Ciphertext []byte
}

// Seal encrypts p under a fresh data key of its own, wrapped by the KEK. Both layers bind
// subjectID as associated data, so neither can be moved to another person's row.
func (k *Keyring) Seal(subjectID uuid.UUID, p *commonv1.Person) (Sealed, error) {
	if subjectID == uuid.Nil {
		return Sealed{}, errNilSubject
	}
	if p == nil {
		return Sealed{}, errNilPerson
	}
	dek, err := keyset.NewHandle(aead.AES256GCMKeyTemplate())
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: generate data key: %w", err)
	}
	var wrapped bytes.Buffer
	if err := dek.WriteWithAssociatedData(keyset.NewBinaryWriter(&wrapped), k.kek, subjectID[:]); err != nil {
		return Sealed{}, fmt.Errorf("vault: wrap data key: %w", err)
	}
	primitive, err := aead.New(dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: data key primitive: %w", err)
	}
	ciphertext, err := encryptIdentity(primitive, subjectID, p)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{WrappedKey: wrapped.Bytes(), Ciphertext: ciphertext}, nil
}

// Open decrypts a sealed identity. Any authentication failure (wrong subject, tampering,
// unknown KEK) returns an error wrapping ErrUndecryptable.
func (k *Keyring) Open(subjectID uuid.UUID, s Sealed) (*commonv1.Person, error) {
	if subjectID == uuid.Nil {
		return nil, errNilSubject
	}
	primitive, err := k.unwrap(subjectID, s.WrappedKey)
	if err != nil {
		return nil, err
	}
	plaintext, err := primitive.Decrypt(s.Ciphertext, identityAssociatedData(subjectID))
	if err != nil {
		return nil, fmt.Errorf("vault: decrypt identity: %w", ErrUndecryptable)
	}
	p := new(commonv1.Person)
	if err := proto.Unmarshal(plaintext, p); err != nil {
		// Authenticated but unparsable: a bug on the writing side, not tampering. The proto
		// error names no field content, but there is nothing useful to add either.
		return nil, errors.New("vault: decrypted identity is not a valid Person")
	}
	return p, nil
}

// Reseal encrypts a corrected identity with the person's existing data key, so WrappedKey
// stays as stored and only the ciphertext is replaced.
func (k *Keyring) Reseal(subjectID uuid.UUID, wrappedKey []byte, p *commonv1.Person) ([]byte, error) {
	if subjectID == uuid.Nil {
		return nil, errNilSubject
	}
	if p == nil {
		return nil, errNilPerson
	}
	primitive, err := k.unwrap(subjectID, wrappedKey)
	if err != nil {
		return nil, err
	}
	return encryptIdentity(primitive, subjectID, p)
}

// unwrap decrypts a person's data key with the KEK. Tink finds the KEK key by the id
// prefixed to the ciphertext, so wrapped keys survive the KEK gaining new primary keys.
func (k *Keyring) unwrap(subjectID uuid.UUID, wrappedKey []byte) (tink.AEAD, error) {
	dek, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrappedKey)), k.kek, subjectID[:])
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap data key: %w", ErrUndecryptable)
	}
	primitive, err := aead.New(dek)
	if err != nil {
		// The KEK authenticated this keyset, so it is ours, but not an AEAD one.
		return nil, fmt.Errorf("vault: unwrapped data key is not an AEAD keyset: %w", err)
	}
	return primitive, nil
}

func encryptIdentity(primitive tink.AEAD, subjectID uuid.UUID, p *commonv1.Person) ([]byte, error) {
	// Deterministic so that the same identity always has the same plaintext bytes; the
	// ciphertext still differs on every call (random nonce).
	plaintext, err := proto.MarshalOptions{Deterministic: true}.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("vault: marshal identity: %w", err)
	}
	ciphertext, err := primitive.Encrypt(plaintext, identityAssociatedData(subjectID))
	if err != nil {
		return nil, fmt.Errorf("vault: encrypt identity: %w", err)
	}
	return ciphertext, nil
}

// identityAssociatedData is subject id (16 bytes, fixed length, so the concatenation is
// unambiguous) followed by the domain label.
func identityAssociatedData(subjectID uuid.UUID) []byte {
	return slices.Concat(subjectID[:], []byte(identityLabel))
}
