package ctdc

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
)

// ErrNotAnonymous is returned by Verify, and so by WriteCSV, when rows may not be released.
var ErrNotAnonymous = errors.New("ctdc: rows are not k-anonymous")

// Verify checks rows on their own terms, knowing nothing of how they were made: every value
// is one the CTDC codebook allows in its column (so nothing free-text, no name, no formula
// can slip through), and every distinct row occurs at least k times. Every column is treated
// as a quasi-identifier: each describes the person. An empty set of rows passes.
func Verify(rows []Row, k int) error {
	if k < 2 {
		return fmt.Errorf("%w: k must be at least 2", ErrNotAnonymous)
	}
	counts := make(map[Row]int, len(rows)/k+1)
	for i, r := range rows {
		for c, v := range r {
			if !allowed(c, v) {
				return fmt.Errorf("%w: row %d: value not allowed in column %s", ErrNotAnonymous, i, Columns[c])
			}
		}
		counts[r]++
	}
	for _, n := range counts {
		if n < k {
			return fmt.Errorf("%w: a combination of values occurs %d times, fewer than %d", ErrNotAnonymous, n, k)
		}
	}
	return nil
}

var (
	alpha2     = regexp.MustCompile(`^[A-Z]{2}$`)
	regionCode = regexp.MustCompile(`^[A-Za-z]{2,12}$`)
	year       = regexp.MustCompile(`^(19|2[0-9])[0-9]{2}$`)
)

// vocabulary is the set of non-empty values each labelled column may hold.
var vocabulary = func() map[int]map[string]bool {
	v := map[int]map[string]bool{
		colDatasource: {datasource: true},
		colGender:     {},
		colAgeBroad:   {},
		colMajority:   {},
	}
	for _, g := range genders {
		if g != "" {
			v[colGender][g] = true
		}
	}
	for _, a := range ageBands {
		if a.broad != "" {
			v[colAgeBroad][a.broad] = true
			v[colMajority][a.majority] = true
		}
	}
	return v
}()

func allowed(col int, v string) bool {
	if v == "" {
		return true
	}
	switch {
	case col == colYear:
		return year.MatchString(v)
	case col == colCitizenship || col == colCountryOfExploitation:
		return alpha2.MatchString(v)
	case col == colCitizenshipRegion || col == colExploitationRegion:
		return regionCode.MatchString(v)
	case col >= colControl && col <= colControlNotSpecified,
		col >= colExploit && col < colExploit+numExploit:
		return v == "0" || v == "1"
	default:
		return vocabulary[col][v]
	}
}

// WriteCSV writes the release in the CTDC layout: the header, then one line per row. It runs
// Verify first and writes nothing at all if the rows fail it.
func (r Release) WriteCSV(w io.Writer) error {
	if err := Verify(r.Rows, r.K); err != nil {
		return err
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(Columns[:]); err != nil {
		return err
	}
	for _, row := range r.Rows {
		if err := cw.Write(row[:]); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
