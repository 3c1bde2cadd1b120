package auth

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The checks in this file run on a token's header and payload before the jwt library decodes
// them (and before the signature is checked: they are cheap and bounded by maxTokenBytes).
// encoding/json, which the library uses, keeps the last of duplicate keys, matches names
// case-insensitively, ignores "crit" and turns a JSON string holding digits into a NumericDate;
// each of those lets two readers of one token disagree on what it says.

const (
	// maxJSONDepth bounds nesting in a header or payload; real tokens nest two or three deep.
	maxJSONDepth = 16
	// maxNumericDate is 9999-12-31T23:59:59Z: a time claim past it is not a date anyone issues.
	maxNumericDate = 253402300799
)

var (
	errDuplicateKey  = errors.New("duplicate key")
	errCritHeader    = errors.New("crit header names extensions this verifier does not understand")
	errTimeClaimType = errors.New("exp, nbf and iat must be JSON numbers of seconds")
	errClaimName     = errors.New("claim name differs from a known claim only in case")
	errJSONShape     = errors.New("not a single JSON object")
	errJSONDepth     = errors.New("nested too deeply")
)

// timeClaims are the claims that must be JSON numbers (RFC 7519 NumericDate).
var timeClaims = map[string]bool{"exp": true, "nbf": true, "iat": true}

// knownClaims are the payload members this package reads, by their folded name (see foldKey).
// A member whose name folds to one of them but is spelled otherwise ("ROLE", "Exp") would still
// be read by encoding/json; it is refused instead.
var knownClaims = foldedSet("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "role", "mission", "partner")

// critHeader is "crit", folded: a header that encoding/json would read as crit is refused too.
var critHeader = foldKey("crit")

func foldedSet(names ...string) map[string]string {
	out := make(map[string]string, len(names))
	for _, n := range names {
		out[foldKey(n)] = n
	}
	return out
}

// checkStrict refuses a compact JWS whose header or payload is not one JSON object without
// duplicate keys (compared as encoding/json compares them, case-insensitively), whose header
// carries "crit" (Passage understands no extension, so RFC 7515 §4.1.11 requires refusal), or
// whose exp, nbf or iat is not a JSON number within years 1970 to 9999. Errors name the check,
// never a value.
func checkStrict(token string) error {
	header, rest, ok := strings.Cut(token, ".")
	if !ok {
		return errors.New("not a compact JWS")
	}
	payload, _, ok := strings.Cut(rest, ".")
	if !ok {
		return errors.New("not a compact JWS")
	}
	hdr, err := scanSegment(header)
	if err != nil {
		return fmt.Errorf("header: %w", err)
	}
	for name := range hdr {
		if foldKey(name) == critHeader {
			return errCritHeader
		}
	}
	claims, err := scanSegment(payload)
	if err != nil {
		return fmt.Errorf("payload: %w", err)
	}
	for name, v := range claims {
		if known, ok := knownClaims[foldKey(name)]; ok && name != known {
			return errClaimName
		}
		if timeClaims[name] && (v.kind != kindNumber || v.number < 0 || v.number > maxNumericDate) {
			return errTimeClaimType
		}
	}
	return nil
}

// jsonKind is the type of a JSON value, as far as these checks need it.
type jsonKind uint8

const (
	kindOther jsonKind = iota // string, bool, null, array or object
	kindNumber
)

// member is what the checks keep of a top-level member's value.
type member struct {
	kind   jsonKind
	number float64
}

// scanSegment decodes one base64url segment (unpadded, canonical, as the jwt parser is told to
// require) and scans it as a single JSON object, returning its top-level members.
func scanSegment(seg string) (map[string]member, error) {
	raw, err := base64.RawURLEncoding.Strict().DecodeString(seg)
	if err != nil {
		return nil, errors.New("not base64url")
	}
	if !utf8.Valid(raw) {
		return nil, errJSONShape
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, errJSONShape
	}
	members := make(map[string]member)
	seen := make(map[string]bool)
	for dec.More() {
		name, err := objectKey(dec, seen)
		if err != nil {
			return nil, err
		}
		m, err := scanValue(dec, 1)
		if err != nil {
			return nil, err
		}
		members[name] = m
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('}') {
		return nil, errJSONShape
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errJSONShape
	}
	return members, nil
}

// objectKey reads the next key of an object, refusing one already in seen.
func objectKey(dec *json.Decoder, seen map[string]bool) (string, error) {
	tok, err := dec.Token()
	if err != nil {
		return "", errJSONShape
	}
	name, ok := tok.(string)
	if !ok {
		return "", errJSONShape
	}
	k := foldKey(name)
	if seen[k] {
		return "", errDuplicateKey
	}
	seen[k] = true
	return name, nil
}

// scanValue reads one JSON value, refusing duplicate keys in any object inside it.
func scanValue(dec *json.Decoder, depth int) (member, error) {
	if depth > maxJSONDepth {
		return member{}, errJSONDepth
	}
	tok, err := dec.Token()
	if err != nil {
		return member{}, errJSONShape
	}
	switch t := tok.(type) {
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return member{}, errJSONShape
		}
		return member{kind: kindNumber, number: f}, nil
	case json.Delim:
		switch t {
		case '{':
			seen := make(map[string]bool)
			for dec.More() {
				if _, err := objectKey(dec, seen); err != nil {
					return member{}, err
				}
				if _, err := scanValue(dec, depth+1); err != nil {
					return member{}, err
				}
			}
		case '[':
			for dec.More() {
				if _, err := scanValue(dec, depth+1); err != nil {
					return member{}, err
				}
			}
		default:
			return member{}, errJSONShape
		}
		// The closing delimiter; the decoder has checked that it matches.
		if _, err := dec.Token(); err != nil {
			return member{}, errJSONShape
		}
	}
	return member{kind: kindOther}, nil
}

// foldKey maps a key to a representative of the keys encoding/json would take for it: every
// rune replaced by the smallest rune of its case-folding orbit, so that foldKey(a) ==
// foldKey(b) exactly when strings.EqualFold(a, b).
func foldKey(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
