package vault

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/google/uuid"
	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/keyset"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
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
	// KEKKeyID is the id of the KEK key that wrapped WrappedKey (see WrappingKeyID).
	KEKKeyID uint32
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
	wrapped, keyID, err := k.wrap(subjectID, dek)
	if err != nil {
		return Sealed{}, err
	}
	primitive, err := aead.New(dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: data key primitive: %w", err)
	}
	ciphertext, err := encryptIdentity(primitive, subjectID, p)
	if err != nil {
		return Sealed{}, err
	}
	return Sealed{WrappedKey: wrapped, Ciphertext: ciphertext, KEKKeyID: keyID}, nil
}

// wrap encrypts a data key with the KEK's current primary key and returns the wrapped key
// with the id of the KEK key that wrapped it, read back from the wrap itself so that it is
// right even if the KEK was replaced meanwhile.
func (k *Keyring) wrap(subjectID uuid.UUID, dek *keyset.Handle) ([]byte, uint32, error) {
	var wrapped bytes.Buffer
	if err := dek.WriteWithAssociatedData(keyset.NewBinaryWriter(&wrapped), k.kek.Load().aead, subjectID[:]); err != nil {
		return nil, 0, fmt.Errorf("vault: wrap data key: %w", err)
	}
	keyID, err := WrappingKeyID(wrapped.Bytes())
	if err != nil {
		return nil, 0, err
	}
	return wrapped.Bytes(), keyID, nil
}

// Rewrap re-encrypts a person's data key under the KEK's current primary key. The data key
// itself does not change, so the identity ciphertext stays as it is; only the wrapped key
// (and the KEK key id it records) is replaced. Once every row is re-wrapped, the old KEK key
// opens nothing live and can be destroyed (retired), which is what makes an erasure reach
// old backups: a dump holds wrapped keys that only the retired key could open.
func (k *Keyring) Rewrap(subjectID uuid.UUID, wrappedKey []byte) ([]byte, uint32, error) {
	if subjectID == uuid.Nil {
		return nil, 0, errNilSubject
	}
	dek, err := k.unwrapHandle(subjectID, wrappedKey)
	if err != nil {
		return nil, 0, err
	}
	return k.wrap(subjectID, dek)
}

// WrappingKeyID returns the id of the KEK key that wrapped a data key. A wrapped key is
// Tink's EncryptedKeyset; its encrypted_keyset is the KEK's ciphertext, which starts with
// Tink's output prefix: a version byte (1) and the key id, 4 bytes big-endian. The id is not
// secret: Tink puts it in the clear precisely so that the right key can be found.
func WrappingKeyID(wrappedKey []byte) (uint32, error) {
	var ek tinkpb.EncryptedKeyset
	if err := proto.Unmarshal(wrappedKey, &ek); err != nil {
		return 0, errors.New("vault: wrapped key is not a Tink encrypted keyset")
	}
	ct := ek.GetEncryptedKeyset()
	if len(ct) < 5 || ct[0] != tinkPrefixVersion {
		return 0, errors.New("vault: wrapped key does not carry a Tink key id")
	}
	return binary.BigEndian.Uint32(ct[1:5]), nil
}

// tinkPrefixVersion starts the output prefix of keys with OutputPrefixType TINK (what
// AES256GCMKeyTemplate makes).
const tinkPrefixVersion = 0x01

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
	dek, err := k.unwrapHandle(subjectID, wrappedKey)
	if err != nil {
		return nil, err
	}
	primitive, err := aead.New(dek)
	if err != nil {
		// The KEK authenticated this keyset, so it is ours, but not an AEAD one.
		return nil, fmt.Errorf("vault: unwrapped data key is not an AEAD keyset: %w", err)
	}
	return primitive, nil
}

func (k *Keyring) unwrapHandle(subjectID uuid.UUID, wrappedKey []byte) (*keyset.Handle, error) {
	dek, err := keyset.ReadWithAssociatedData(keyset.NewBinaryReader(bytes.NewReader(wrappedKey)), k.kek.Load().aead, subjectID[:])
	if err != nil {
		return nil, fmt.Errorf("vault: unwrap data key: %w", ErrUndecryptable)
	}
	return dek, nil
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

// secretLabel separates sealed secrets from identities: the associated data differs, so one
// can never be opened as the other.
const secretLabel = "passage.vault.secret.v1/"

// SealSecret encrypts a service's secret (a partner's webhook signing secret, say) with the
// KEK, bound to its owner id and purpose as associated data, and returns the ciphertext with
// the id of the KEK key that sealed it. Rotating the KEK leaves it readable while that key
// stays in the keyset.
func (k *Keyring) SealSecret(owner uuid.UUID, purpose string, secret []byte) ([]byte, uint32, error) {
	if owner == uuid.Nil {
		return nil, 0, errNilSubject
	}
	ct, err := k.kek.Load().aead.Encrypt(secret, secretAssociatedData(owner, purpose))
	if err != nil {
		return nil, 0, fmt.Errorf("vault: seal secret: %w", err)
	}
	if len(ct) < 5 {
		return nil, 0, ErrUndecryptable
	}
	return ct, binary.BigEndian.Uint32(ct[1:5]), nil
}

// OpenSecret decrypts what SealSecret sealed for the same owner and purpose.
func (k *Keyring) OpenSecret(owner uuid.UUID, purpose string, sealed []byte) ([]byte, error) {
	pt, err := k.kek.Load().aead.Decrypt(sealed, secretAssociatedData(owner, purpose))
	if err != nil {
		return nil, ErrUndecryptable
	}
	return pt, nil
}

func secretAssociatedData(owner uuid.UUID, purpose string) []byte {
	return append([]byte(secretLabel+purpose+"/"), owner[:]...)
}
