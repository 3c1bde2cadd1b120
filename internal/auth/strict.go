package auth

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
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

// critHeader is "crit", folded: a header member spelled "CRIT" or "Crit" is refused as well.
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
	// json.Valid checks the syntax, so the walk below only has to find its way through it.
	if !utf8.Valid(raw) || !json.Valid(raw) {
		return nil, errJSONShape
	}
	w := walker{b: raw}
	w.space()
	if w.peek() != '{' {
		return nil, errJSONShape
	}
	members := make(map[string]member)
	if _, err := w.object(1, members); err != nil {
		return nil, err
	}
	return members, nil
}

// walker walks JSON that json.Valid accepted: one value, well formed, so it never meets a
// syntax error and needs no bounds checks beyond the end of input.
type walker struct {
	b []byte
	i int
}

func (w *walker) peek() byte {
	if w.i < len(w.b) {
		return w.b[w.i]
	}
	return 0
}

func (w *walker) space() {
	for w.i < len(w.b) {
		switch w.b[w.i] {
		case ' ', '\t', '\n', '\r':
			w.i++
		default:
			return
		}
	}
}

// value walks one value at the current position, refusing duplicate keys in any object in it.
func (w *walker) value(depth int) (member, error) {
	if depth > maxJSONDepth {
		return member{}, errJSONDepth
	}
	w.space()
	switch c := w.peek(); {
	case c == '{':
		return w.object(depth, nil)
	case c == '[':
		w.i++
		for {
			w.space()
			if w.peek() == ']' {
				w.i++
				return member{kind: kindOther}, nil
			}
			if _, err := w.value(depth + 1); err != nil {
				return member{}, err
			}
			w.space()
			if w.peek() == ',' {
				w.i++
			}
		}
	case c == '"':
		_, err := w.string()
		return member{kind: kindOther}, err
	case c == '-' || c >= '0' && c <= '9':
		start := w.i
		for w.i < len(w.b) && strings.IndexByte("+-.0123456789eE", w.b[w.i]) >= 0 {
			w.i++
		}
		f, err := strconv.ParseFloat(string(w.b[start:w.i]), 64)
		if err != nil {
			return member{}, errJSONShape
		}
		return member{kind: kindNumber, number: f}, nil
	default: // true, false, null
		for w.i < len(w.b) && w.b[w.i] >= 'a' && w.b[w.i] <= 'z' {
			w.i++
		}
		return member{kind: kindOther}, nil
	}
}

// object walks an object at the current position; with members not nil, it keeps each
// member's name and what value returned for it.
func (w *walker) object(depth int, members map[string]member) (member, error) {
	w.i++ // {
	seen := make(map[string]bool)
	for {
		w.space()
		switch w.peek() {
		case '}':
			w.i++
			return member{kind: kindOther}, nil
		case ',':
			w.i++
			continue
		}
		name, err := w.string()
		if err != nil {
			return member{}, err
		}
		k := foldKey(name)
		if seen[k] {
			return member{}, errDuplicateKey
		}
		seen[k] = true
		w.space()
		w.i++ // :
		m, err := w.value(depth + 1)
		if err != nil {
			return member{}, err
		}
		if members != nil {
			members[name] = m
		}
	}
}

// string reads a string at the current position and returns it unescaped; escapes are
// decoded by encoding/json itself, so "\u0072ole" is "role" here as it is to the jwt parser.
func (w *walker) string() (string, error) {
	start := w.i
	escaped := false
	for w.i++; w.i < len(w.b); w.i++ {
		switch w.b[w.i] {
		case '\\':
			escaped = true
			w.i++
		case '"':
			w.i++
			raw := w.b[start:w.i]
			if !escaped {
				return string(raw[1 : len(raw)-1]), nil
			}
			var s string
			if err := json.Unmarshal(raw, &s); err != nil {
				return "", errJSONShape
			}
			return s, nil
		}
	}
	return "", errJSONShape
}

// foldKey maps a key to a representative of the keys encoding/json would take for it, so that
// foldKey(a) == foldKey(b) exactly when strings.EqualFold(a, b): every rune is replaced by one
// member of its case-folding orbit (see foldRune). Lower-case ASCII keys, the usual ones, are
// their own representative.
func foldKey(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		b.WriteRune(foldRune(r))
	}
	return b.String()
}

// foldRune picks one rune of r's case-folding orbit: its lower-case ASCII member when it has
// one (so that the Kelvin sign folds to "k", as an ASCII key would), else its smallest.
func foldRune(r rune) rune {
	least, ascii := r, rune(-1)
	for f := r; ; {
		if f < utf8.RuneSelf {
			ascii = f
		}
		least = min(least, f)
		if f = unicode.SimpleFold(f); f == r {
			break
		}
	}
	if ascii >= 0 {
		return unicode.ToLower(ascii)
	}
	return least
}
