package vault

import (
	"fmt"
	"slices"
	"strings"
	"unicode"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"

	commonv1 "github.com/passage-cm/passage/proto/gen/passage/common/v1"
)

// Kind says which identifier a blind index was computed from.
type Kind int

const (
	// KindDocument is an identity document: issuing state and number.
	KindDocument Kind = iota + 1
	// KindNameDateOfBirthNationality is the person's names, date of birth and nationality.
	KindNameDateOfBirthNationality
)

// String returns the name stored in the database; it must never change.
func (k Kind) String() string {
	switch k {
	case KindDocument:
		return "document"
	case KindNameDateOfBirthNationality:
		return "name_dob_nationality"
	}
	if i := int(k - KindNameDateOfBirth); 0 <= i && i < len(searchKindNames) {
		return searchKindNames[i]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// BlindIndex is a keyed digest of one normalised identifier. Two people with equal digests of
// the same kind probably are the same person; the digest reveals nothing without the key.
type BlindIndex struct {
	Kind   Kind
	Digest []byte
}

// BlindIndexes returns the blind indexes of p: one per distinct identity document, then one
// for name, date of birth and nationality when all three are known. Digests are the full Tink
// MAC output of the blind-index keyset's primary key (its 5-byte key id prefix included), so
// they are deterministic for a given key and change when the primary key is rotated.
//
// Everything that goes into an index is normalised first, and the normalisation is part of
// the stored data: changing it means recomputing every index in the vault.
func (k *Keyring) BlindIndexes(p *commonv1.Person) []BlindIndex {
	if p == nil {
		return nil
	}
	var inputs []string // distinct, in the order of p.Documents
	for _, d := range p.GetDocuments() {
		if in, ok := documentInput(d.GetIssuingCountry(), d.GetNumber()); ok && !slices.Contains(inputs, in) {
			inputs = append(inputs, in)
		}
	}
	indexes := make([]BlindIndex, 0, len(inputs)+1)
	for _, in := range inputs {
		indexes = append(indexes, BlindIndex{Kind: KindDocument, Digest: k.mac(in)})
	}
	if in, ok := nameDateOfBirthNationalityInput(p); ok {
		indexes = append(indexes, BlindIndex{Kind: KindNameDateOfBirthNationality, Digest: k.mac(in)})
	}
	return indexes
}

// DocumentIndex returns the index BlindIndexes computes for a document of number issued by
// issuingCountry, or false when the number holds no letter or digit.
func (k *Keyring) DocumentIndex(issuingCountry, number string) (BlindIndex, bool) {
	in, ok := documentInput(issuingCountry, number)
	if !ok {
		return BlindIndex{}, false
	}
	return BlindIndex{Kind: KindDocument, Digest: k.mac(in)}, true
}

// documentInput builds "doc\x00<issuing country>\x00<normalised number>", or reports false
// when nothing identifying is left of the number (such an index would match every other
// empty one). The document type is deliberately left out: the same passport recorded once
// as a passport and once as a travel document must still match.
func documentInput(issuingCountry, number string) (string, bool) {
	n := normaliseDocumentNumber(number)
	if n == "" {
		return "", false
	}
	return "doc\x00" + issuingCountry + "\x00" + n, true
}

// Fingerprint returns a keyed digest of data in the named domain, for recognising a repeated
// request (idempotency) without storing what it contained. domain is a constant chosen by the
// caller and must not contain a NUL byte; Fingerprint panics if it does, since that would make
// two domains' inputs collide.
func (k *Keyring) Fingerprint(domain string, data []byte) []byte {
	if strings.IndexByte(domain, 0) >= 0 {
		panic("vault: fingerprint domain contains a NUL byte")
	}
	in := make([]byte, 0, len("fp\x00")+len(domain)+1+len(data))
	in = append(in, "fp\x00"...)
	in = append(in, domain...)
	in = append(in, 0)
	in = append(in, data...)
	return k.macBytes(in)
}

func (k *Keyring) mac(in string) []byte { return k.macBytes([]byte(in)) }

// macBytes computes the blind-index MAC. Tink's HMAC and CMAC cannot fail on a keyset that
// NewKeyring accepted, so an error here is a broken invariant: panic (with no data in the
// message) rather than return an index that silently matches nothing.
func (k *Keyring) macBytes(in []byte) []byte {
	digest, err := k.blindIndex.ComputeMAC(in)
	if err != nil {
		panic("vault: blind-index MAC failed")
	}
	return digest
}

// nameDateOfBirthNationalityInput builds "ndn\x00<name>\x00<YYYY-MM-DD>\x00<nationality>", or
// reports false when the person lacks a given name, a year of birth or a nationality.
func nameDateOfBirthNationalityInput(p *commonv1.Person) (string, bool) {
	dob := p.GetDateOfBirth()
	if dob.GetYear() <= 0 || p.GetNationality() == "" || normaliseName(p.GetGivenName(), "") == "" {
		return "", false
	}
	name := normaliseName(p.GetGivenName(), p.GetFamilyName())
	// An unknown month or day stays 00, so "born 1990" and "born 1 January 1990" differ.
	date := fmt.Sprintf("%04d-%02d-%02d", dob.GetYear(), dob.GetMonth(), dob.GetDay())
	return "ndn\x00" + name + "\x00" + date + "\x00" + p.GetNationality(), true
}

// normaliseDocumentNumber keeps only the letters and digits of a document number, upper-case
// ASCII, after NFKC folding (so full-width "ＡＢ１２" is "AB12"): "ab-123 456" is "AB123456".
func normaliseDocumentNumber(number string) string {
	folded := norm.NFKC.String(number)
	var b strings.Builder
	b.Grow(len(folded))
	for _, r := range folded {
		r = unicode.ToUpper(r)
		if ('A' <= r && r <= 'Z') || ('0' <= r && r <= '9') {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// normaliseName reduces given and family names to a canonical form in which spelling
// accidents and ordering do not matter: compatibility-decomposed (NFKD), case-folded,
// stripped of combining marks (accents, Arabic harakat and the hamza written above or below
// alef) and of the Arabic tatweel, split on anything that is neither a letter, a digit nor a
// spacing mark, and the tokens sorted and joined by single spaces. So "José  MARÍA" and
// "maria jose" are both "jose maria", and swapping given and family names changes nothing.
//
// Case folding rather than lower-casing makes "ΟΔΥΣΣΕΑΣ" match "Οδυσσέας" (final sigma) and
// "WEISS" match "Weiß". Spacing marks (Mc) stay inside tokens because in Indic scripts they
// are vowel signs, part of the word.
func normaliseName(given, family string) string {
	folded := cases.Fold().String(norm.NFKD.String(given + " " + family))
	var b strings.Builder
	b.Grow(len(folded))
	for _, r := range folded {
		switch {
		case unicode.Is(unicode.Mn, r), r == '\u0640': // combining marks, tatweel
		case unicode.IsLetter(r), unicode.IsDigit(r), unicode.IsMark(r):
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	tokens := strings.Fields(b.String())
	slices.Sort(tokens)
	return strings.Join(tokens, " ")
}
