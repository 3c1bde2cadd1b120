package vault

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	tinkpb "github.com/tink-crypto/tink-go/v2/proto/tink_go_proto"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// File names of the development keysets inside the directory given to LoadOrCreateDevKeyring.
const (
	DevKEKFile        = "kek.json"
	DevBlindIndexFile = "blind-index.json"
)

// Keyring holds the vault's two long-lived keys: the key-encryption key (KEK) that wraps
// every person's data key, and the MAC key behind blind indexes and fingerprints. It is safe
// for concurrent use; it never exposes key material, and none of its errors contain any.
//
// The KEK keyset can be replaced while the keyring is in use (SetKEK, after a rotation):
// every wrap from then on uses the new primary key, and data keys wrapped by any key still
// in the keyset keep opening.
type Keyring struct {
	kek        atomic.Pointer[kekState]
	blindIndex tink.MAC
}

// kekState is one version of the KEK keyset: its primitive and the ids of its keys.
type kekState struct {
	aead    tink.AEAD
	primary uint32
	ids     []uint32 // every key in the keyset, primary included, ascending
}

func newKEKState(h *keyset.Handle) (*kekState, error) {
	a, err := aead.New(h)
	if err != nil {
		return nil, fmt.Errorf("vault: key-encryption keyset is not a usable AEAD keyset: %w", err)
	}
	info := h.KeysetInfo()
	st := &kekState{aead: a, primary: info.GetPrimaryKeyId()}
	for _, k := range info.GetKeyInfo() {
		st.ids = append(st.ids, k.GetKeyId())
	}
	slices.Sort(st.ids)
	return st, nil
}

// SetKEK replaces the key-encryption keyset, e.g. after `passage keys rotate` wrote a new
// one. It is atomic: a concurrent Seal uses either the old or the new keyset, never a mix.
func (k *Keyring) SetKEK(h *keyset.Handle) error {
	if h == nil {
		return errors.New("vault: nil keyset handle")
	}
	st, err := newKEKState(h)
	if err != nil {
		return err
	}
	k.kek.Store(st)
	return nil
}

// KEKPrimary returns the id of the KEK key that wraps new data keys.
func (k *Keyring) KEKPrimary() uint32 { return k.kek.Load().primary }

// KEKKeyIDs returns the ids of every key in the KEK keyset, ascending.
func (k *Keyring) KEKKeyIDs() []uint32 { return slices.Clone(k.kek.Load().ids) }

// NewKeyring builds a Keyring from keyset handles, whatever their source: kek must be an AEAD
// keyset (AES256-GCM in Passage) and blindIndex a MAC keyset (HMAC-SHA256, 256-bit tag).
func NewKeyring(kek *keyset.Handle, blindIndex *keyset.Handle) (*Keyring, error) {
	if kek == nil || blindIndex == nil {
		return nil, errors.New("vault: nil keyset handle")
	}
	st, err := newKEKState(kek)
	if err != nil {
		return nil, err
	}
	biMAC, err := mac.New(blindIndex)
	if err != nil {
		return nil, fmt.Errorf("vault: blind-index keyset is not a usable MAC keyset: %w", err)
	}
	k := &Keyring{blindIndex: biMAC}
	k.kek.Store(st)
	return k, nil
}

// LoadKeyring reads an existing key-encryption keyset and blind-index keyset, both Tink
// cleartext JSON as written by LoadOrCreateDevKeyring. It never creates keys: a missing file
// is an error that wraps fs.ErrNotExist.
//
// DEVELOPMENT ONLY: cleartext keysets put the keys on disk unprotected; anyone who can read
// the files can decrypt every identity in the vault.
func LoadKeyring(kekPath, blindIndexPath string) (*Keyring, error) {
	kek, err := readCleartextKeyset(kekPath)
	if err != nil {
		return nil, fmt.Errorf("vault: key-encryption keyset: %w", err)
	}
	bi, err := readCleartextKeyset(blindIndexPath)
	if err != nil {
		return nil, fmt.Errorf("vault: blind-index keyset: %w", err)
	}
	return NewKeyring(kek, bi)
}

// LoadOrCreateDevKeyring loads the development keysets kek.json and blind-index.json from
// dir, generating any that is missing (and dir itself, mode 0700). Generated files are
// mode 0600.
//
// DEVELOPMENT ONLY: the keys are stored in cleartext. Never point this at a directory that
// holds real people's data: deleting kek.json makes every sealed identity unreadable, and
// deleting blind-index.json silently stops duplicates from being found.
func LoadOrCreateDevKeyring(dir string) (*Keyring, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("vault: create dev key directory: %w", err)
	}
	kek, err := loadOrCreateCleartextKeyset(filepath.Join(dir, DevKEKFile), aead.AES256GCMKeyTemplate)
	if err != nil {
		return nil, fmt.Errorf("vault: dev key-encryption keyset: %w", err)
	}
	bi, err := loadOrCreateCleartextKeyset(filepath.Join(dir, DevBlindIndexFile), mac.HMACSHA256Tag256KeyTemplate)
	if err != nil {
		return nil, fmt.Errorf("vault: dev blind-index keyset: %w", err)
	}
	return NewKeyring(kek, bi)
}

// readCleartextKeyset reads a Tink cleartext JSON keyset. Tink's reader already reduces
// parse failures to a fixed message, so a damaged file never echoes its content (the key)
// into an error.
func readCleartextKeyset(path string) (*keyset.Handle, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *fs.PathError: the path and the cause, never the content
	}
	defer f.Close()
	h, err := insecurecleartextkeyset.Read(keyset.NewJSONReader(f))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return h, nil
}

func loadOrCreateCleartextKeyset(path string, template func() *tinkpb.KeyTemplate) (*keyset.Handle, error) {
	h, err := readCleartextKeyset(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return h, err
	}
	h, err = keyset.NewHandle(template())
	if err != nil {
		return nil, fmt.Errorf("generate: %w", err)
	}
	switch err := writeCleartextKeysetExclusive(path, h); {
	case err == nil:
		return h, nil
	case errors.Is(err, fs.ErrExist):
		// Another process (a second service sharing the dev key volume) created the file
		// between our read and our write: its keyset wins, and we use it too.
		return readCleartextKeyset(path)
	default:
		return nil, err
	}
}

// writeCleartextKeysetExclusive writes h to path only if path does not exist yet. The keyset
// goes to a temporary file first, so path is never seen half-written; it is then hard-linked
// into place rather than renamed, because a rename would silently replace a keyset another
// process created meanwhile, leaving that process sealing with a key no longer on disk.
func writeCleartextKeysetExclusive(path string, h *keyset.Handle) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		// The temporary name is never needed: on success the link holds the content.
		if rmErr := os.Remove(tmp.Name()); rmErr != nil && err == nil && !errors.Is(rmErr, fs.ErrNotExist) {
			err = rmErr
		}
	}()
	if err := insecurecleartextkeyset.Write(h, keyset.NewJSONWriter(tmp)); err != nil {
		tmp.Close()
		return fmt.Errorf("write keyset: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable, so a crash cannot lose a key that has
// already been used to seal data.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
