package hxl

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
)

// Column is one CSV column: the header people read and the HXL hashtag, with its attributes,
// that machines read ("#country+code+host").
type Column struct {
	Header, Tag string
}

// ErrInvalid is returned, wrapped, for columns or rows Write cannot lay out. Nothing is
// written then.
var ErrInvalid = errors.New("hxl: invalid table")

// tagPattern is an HXL hashtag with attributes, as the HXL standard (1.1) defines them:
// letters, digits and underscores, starting with a letter. Passage writes them in lower case.
var tagPattern = regexp.MustCompile(`^#[a-z][a-z0-9_]*(\+[a-z][a-z0-9_]*)*$`)

// ValidTag reports whether tag is a well-formed HXL hashtag with optional attributes.
func ValidTag(tag string) bool { return tagPattern.MatchString(tag) }

// Write writes cols' headers, then their hashtags, then rows, as CSV. It checks everything
// first (well-formed tags, as many values in each row as columns) and writes nothing if any
// of it is wrong. Every value that a spreadsheet would read as a formula is neutralised (see
// Neutralise), headers included.
func Write(w io.Writer, cols []Column, rows [][]string) error {
	if len(cols) == 0 {
		return fmt.Errorf("%w: no columns", ErrInvalid)
	}
	header := make([]string, len(cols))
	tags := make([]string, len(cols))
	for i, c := range cols {
		if !ValidTag(c.Tag) {
			return fmt.Errorf("%w: column %d: malformed hashtag", ErrInvalid, i)
		}
		header[i], tags[i] = Neutralise(c.Header), c.Tag
	}
	for i, r := range rows {
		if len(r) != len(cols) {
			return fmt.Errorf("%w: row %d has %d values for %d columns", ErrInvalid, i, len(r), len(cols))
		}
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(header); err != nil {
		return err
	}
	if err := cw.Write(tags); err != nil {
		return err
	}
	out := make([]string, len(cols))
	for _, r := range rows {
		for i, v := range r {
			out[i] = Neutralise(v)
		}
		if err := cw.Write(out); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// Neutralise defends against CSV formula injection: a value that starts with a character a
// spreadsheet reads as the start of a formula (= + - @, or a tab or carriage return that some
// of them skip first) gets a leading apostrophe, so it is shown as text and never evaluated.
// Passage writes codes and counts, which never start with these, so this only ever fires on
// something that should not be there; it is here because a published file is opened in Excel
// by people who trust it. Counts are never negative, so no number is altered.
func Neutralise(v string) string {
	if v != "" && strings.ContainsRune("=+-@\t\r", rune(v[0])) {
		return "'" + v
	}
	return v
}
