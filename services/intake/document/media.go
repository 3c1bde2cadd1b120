package document

import (
	"bytes"
	"slices"
)

// The media types a document may have, each with the signatures (magic numbers) its bytes
// start with: a declared type is believed only when the bytes bear it out.
var signatures = map[string][][]byte{
	"application/pdf": {[]byte("%PDF-")},
	"image/jpeg":      {{0xFF, 0xD8, 0xFF}},
	"image/png":       {{0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'}},
	"image/tiff":      {{'I', 'I', 0x2A, 0x00}, {'M', 'M', 0x00, 0x2A}},
}

// signatureLen is the length of the longest signature: the bytes a check needs.
const signatureLen = 8

// allowed reports whether media type t is one a document may have.
func allowed(t string) bool {
	_, ok := signatures[t]
	return ok
}

// mediaTypes is the allowed media types, sorted, for an error message.
func mediaTypes() []string {
	out := make([]string, 0, len(signatures))
	for t := range signatures {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// bears reports whether head, a file's first bytes (signatureLen of them, or the whole file
// when shorter), starts with one of media type t's signatures.
func bears(t string, head []byte) bool {
	return slices.ContainsFunc(signatures[t], func(sig []byte) bool { return bytes.HasPrefix(head, sig) })
}
