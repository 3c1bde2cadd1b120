package vault

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/tink-crypto/tink-go/v2/aead"
	"github.com/tink-crypto/tink-go/v2/insecurecleartextkeyset"
	"github.com/tink-crypto/tink-go/v2/keyset"
	"github.com/tink-crypto/tink-go/v2/mac"
	"github.com/tink-crypto/tink-go/v2/tink"
)

// KeysetFile is a Tink keyset in a JSON file: encrypted under a key manager's key (KMS set,
// production) or in cleartext (KMS nil, development only: whoever reads the file holds the
// keys). The key manager's key never leaves the key manager; the file is useless without it.
type KeysetFile struct {
	Path string
	KMS  tink.AEAD
	// Purpose is bound to the file's encryption as associated data ("kek", "blind-index"),
	// so that one keyset file cannot be passed off as the other.
	Purpose string
}

// Read reads the keyset. A missing file is an error wrapping fs.ErrNotExist; Tink reduces
// a damaged file to a fixed message, so no key material reaches an error.
func (f KeysetFile) Read() (*keyset.Handle, error) {
	data, err := os.ReadFile(f.Path)
	if err != nil {
		return nil, err // *fs.PathError: the path and the cause, never the content
	}
	r := keyset.NewJSONReader(bytes.NewReader(data))
	var h *keyset.Handle
	if f.KMS == nil {
		h, err = insecurecleartextkeyset.Read(r)
	} else {
		h, err = keyset.ReadWithAssociatedData(r, f.KMS, f.associatedData())
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Path, err)
	}
	return h, nil
}

// Write replaces the file with h, atomically: the keyset goes to a temporary file in the same
// directory, is synced, then renamed over the old one, so a running process that reloads
// never reads half a keyset and a crash leaves either the old or the new one.
func (f KeysetFile) Write(h *keyset.Handle) (err error) {
	var buf bytes.Buffer
	w := keyset.NewJSONWriter(&buf)
	if f.KMS == nil {
		err = insecurecleartextkeyset.Write(h, w)
	} else {
		err = h.WriteWithAssociatedData(w, f.KMS, f.associatedData())
	}
	if err != nil {
		return fmt.Errorf("encode keyset: %w", err)
	}
	dir := filepath.Dir(f.Path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(f.Path)+".tmp-*") // mode 0600
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.Remove(tmp.Name())
		}
	}()
	if _, err := tmp.Write(buf.Bytes()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), f.Path); err != nil {
		return err
	}
	return syncDir(dir)
}

func (f KeysetFile) associatedData() []byte {
	return []byte("passage.vault.keyset." + f.Purpose)
}

// KeyringFiles are the two keyset files a keyring is loaded from.
type KeyringFiles struct {
	KEK, BlindIndex KeysetFile
}

// DevKeyringFiles are the cleartext development keysets in dir (see LoadOrCreateDevKeyring).
func DevKeyringFiles(dir string) KeyringFiles {
	return KeyringFiles{
		KEK:        KeysetFile{Path: filepath.Join(dir, DevKEKFile), Purpose: "kek"},
		BlindIndex: KeysetFile{Path: filepath.Join(dir, DevBlindIndexFile), Purpose: "blind-index"},
	}
}

// Load reads both keysets into a keyring.
func (f KeyringFiles) Load() (*Keyring, error) {
	kek, err := f.KEK.Read()
	if err != nil {
		return nil, fmt.Errorf("vault: key-encryption keyset: %w", err)
	}
	bi, err := f.BlindIndex.Read()
	if err != nil {
		return nil, fmt.Errorf("vault: blind-index keyset: %w", err)
	}
	return NewKeyring(kek, bi)
}

// ReloadKEK reads the KEK keyset again and installs it in k if its keys changed (a rotation
// or a retirement). It reports whether it did.
func (f KeyringFiles) ReloadKEK(k *Keyring) (bool, error) {
	h, err := f.KEK.Read()
	if err != nil {
		return false, fmt.Errorf("vault: key-encryption keyset: %w", err)
	}
	st, err := newKEKState(h)
	if err != nil {
		return false, err
	}
	cur := k.kek.Load()
	if cur.primary == st.primary && slicesEqual(cur.ids, st.ids) {
		return false, nil
	}
	k.kek.Store(st)
	return true, nil
}

func slicesEqual(a, b []uint32) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// NewKEKKeyset generates a KEK keyset of one AES256-GCM key (`passage keys init`).
func NewKEKKeyset() (*keyset.Handle, error) {
	return keyset.NewHandle(aead.AES256GCMKeyTemplate())
}

// NewBlindIndexKeyset generates a blind-index keyset (HMAC-SHA256, 256-bit tag).
func NewBlindIndexKeyset() (*keyset.Handle, error) {
	return keyset.NewHandle(mac.HMACSHA256Tag256KeyTemplate())
}

// ErrRetirePrimary refuses to retire the key that wraps new data keys.
var ErrRetirePrimary = errors.New("vault: the primary KEK key cannot be retired; rotate first")

// ErrUnknownKEKKey reports a key id that is not in the KEK keyset.
var ErrUnknownKEKKey = errors.New("vault: no such key in the KEK keyset")

// RotateKEK returns h with a new AES256-GCM key added as primary, and the new key's id. The
// old keys stay, so every data key they wrapped still opens until it is re-wrapped.
func RotateKEK(h *keyset.Handle) (*keyset.Handle, uint32, error) {
	m := keyset.NewManagerFromHandle(h)
	id, err := m.Add(aead.AES256GCMKeyTemplate())
	if err != nil {
		return nil, 0, fmt.Errorf("vault: add KEK key: %w", err)
	}
	if err := m.SetPrimary(id); err != nil {
		return nil, 0, fmt.Errorf("vault: promote KEK key: %w", err)
	}
	out, err := m.Handle()
	if err != nil {
		return nil, 0, err
	}
	return out, id, nil
}

// RetireKEK returns h without key id: the key material is gone from the keyset, so nothing
// it wrapped (in the database or in any backup of it) can be opened with this keyset again.
// The caller checks first that no live row still uses it (see CountWrappedBy).
func RetireKEK(h *keyset.Handle, id uint32) (*keyset.Handle, error) {
	info := h.KeysetInfo()
	if info.GetPrimaryKeyId() == id {
		return nil, ErrRetirePrimary
	}
	found := false
	for _, k := range info.GetKeyInfo() {
		found = found || k.GetKeyId() == id
	}
	if !found {
		return nil, ErrUnknownKEKKey
	}
	m := keyset.NewManagerFromHandle(h)
	if err := m.Delete(id); err != nil {
		return nil, fmt.Errorf("vault: delete KEK key: %w", err)
	}
	return m.Handle()
}
