package main

import (
	"cmp"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/type/date"

	"github.com/passage-cm/passage/internal/civildate"
)

// Parsing the command line: flags before and after positional arguments, repeatable flags,
// enum names and dates. None of the errors quotes the value: it may be personal data.

// parseFlags parses args, letting flags come before and after the positional arguments (the
// flag package stops at the first positional one), and returns the positional arguments and
// the names of the flags given. -h and refused flags come back as parseFlagSet returns them.
func parseFlags(fs *flag.FlagSet, args []string) (positional []string, given map[string]bool, err error) {
	for {
		if err := parseFlagSet(fs, args); err != nil {
			return nil, nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		positional = append(positional, args[0])
		args = args[1:]
	}
	given = map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	return positional, given, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (l *stringList) String() string { return strings.Join(*l, ", ") }

func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// enumNames maps the names a caseworker types for an enum's values ("female" for
// SEX_FEMALE) to the values. It is built from the generated value map, so a value added to
// the .proto is accepted here without a change.
type enumNames struct {
	prefix string
	values map[string]int32 // lower-case name without prefix → value
	names  []string         // in value order, for messages
}

// newEnumNames takes a generated enum's value map (Sex_value); it leaves out the zero value
// (…_UNSPECIFIED), whose name gives the prefix, and the names in leaveOut.
func newEnumNames(values map[string]int32, leaveOut ...string) enumNames {
	var prefix string
	for full, v := range values {
		if v == 0 {
			prefix = strings.TrimSuffix(full, "UNSPECIFIED")
		}
	}
	e := enumNames{prefix: prefix, values: map[string]int32{}}
	for full, v := range values {
		name := strings.ToLower(strings.TrimPrefix(full, prefix))
		if v == 0 || slices.Contains(leaveOut, name) {
			continue
		}
		e.values[name] = v
		e.names = append(e.names, name)
	}
	slices.SortFunc(e.names, func(a, b string) int { return cmp.Compare(e.values[a], e.values[b]) })
	return e
}

// parse accepts a name in any case, with or without the prefix ("female", "SEX_FEMALE").
// Its error does not quote s: a misplaced field of a --household value may be a name.
func (e enumNames) parse(s string) (int32, error) {
	name := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), strings.ToLower(e.prefix))
	if v, ok := e.values[name]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("must be one of %s", e.list())
}

func (e enumNames) list() string { return strings.Join(e.names, ", ") }

func parseEnum[T ~int32](e enumNames, s string) (T, error) {
	v, err := e.parse(s)
	return T(v), err
}

var (
	errDateFormat     = errors.New("want YYYY, YYYY-MM or YYYY-MM-DD")
	errFullDateFormat = errors.New("want YYYY-MM-DD")
	errDateInvalid    = errors.New("not a valid calendar date")
)

// parseDate reads YYYY, YYYY-MM or YYYY-MM-DD. A missing month or day stays zero, which
// google.type.Date reads as unknown: many migrants know only the year they were born.
func parseDate(s string) (*date.Date, error) {
	parts := strings.Split(strings.TrimSpace(s), "-")
	if len(parts) > 3 || len(parts[0]) != 4 {
		return nil, errDateFormat
	}
	var n [3]int32
	for i, p := range parts {
		if p == "" || (i > 0 && len(p) > 2) || strings.Trim(p, "0123456789") != "" {
			return nil, errDateFormat
		}
		v, err := strconv.Atoi(p)
		if err != nil {
			return nil, errDateFormat
		}
		if v == 0 {
			// "1990-00" would otherwise read as a year alone.
			return nil, errDateInvalid
		}
		n[i] = int32(v)
	}
	d := &date.Date{Year: n[0], Month: n[1], Day: n[2]}
	if civildate.Check(d) != nil {
		return nil, errDateInvalid
	}
	return d, nil
}

// parseFullDate is parseDate for a date that needs a day.
func parseFullDate(s string) (*date.Date, error) {
	d, err := parseDate(s)
	switch {
	case errors.Is(err, errDateFormat):
		return nil, errFullDateFormat
	case err != nil:
		return nil, err
	case civildate.CheckFull(d) != nil:
		return nil, errFullDateFormat
	}
	return d, nil
}

// countryCode upper-cases an ISO 3166-1 alpha-3 code; the server checks it.
func countryCode(s string) string { return strings.ToUpper(strings.TrimSpace(s)) }

// parseInstant reads flag's value: RFC 3339, or a date (its midnight UTC).
func parseInstant(flag, s string) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, errors.New(flag + " must be RFC 3339 (2026-11-27T05:00:00Z) or a date (2026-11-27)")
}
