package hxl

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
)

// Cell is one count of an aggregate: a stored code per dimension in Keys, in the order of the
// dimensions, and the count, unless it was suppressed by disclosure control.
type Cell struct {
	Keys       []string
	Count      int64
	Suppressed bool
}

// Table lays out an aggregate of measure grouped by dimensions in the shape HXL tools read:
// a column per dimension (in the order given), except sex and age band, which become
// attributes of the count columns (#reached+ind+returnees+f, …+m), one count column per
// combination that occurs. A combination with no cell in a row counts zero.
//
// A suppressed count is written as an empty value, with "true" in the #meta+suppressed
// column beside it (which carries the same sex and age attributes). HXL tools and HDX treat
// an empty number as missing: they skip it and do not fail validation, as they would on a
// word such as "suppressed" in a #reached column; an analyst can still tell a suppressed
// value from a zero. Totals are not written: HDX tools compute their own, and rows of totals
// among the detail would be counted twice. Cells must hold no total ("" keys) and no two
// cells the same keys; rows are sorted by their keys.
func Table(measure string, dims []string, cells []Cell) ([]Column, [][]string, error) {
	return TableWithNames(measure, dims, cells, nil)
}

// Namer gives the name of a dimension's code ("EEA" of HOST_REGION is "European Economic
// Area, …"); dimension comes without its DIMENSION_ prefix. Names are reference data, never
// anything about a person.
type Namer func(dimension, code string) (name string, ok bool)

// TableWithNames is Table with, after each country or region column, a column of the names
// of its codes (#country+name+host, #region+name+dest …) given by name, which HDX shows and
// filters on. A code name does not know gets an empty name.
func TableWithNames(measure string, dims []string, cells []Cell, name Namer) ([]Column, [][]string, error) {
	return Layout(measure, dims, cells, Options{Names: name})
}

// Meta is a column that holds the same value in every row and describes the release rather
// than a count, such as its provenance (#meta+method, #date+released): HDX shows it beside
// the figures, and HXL tools that sum the counts leave it alone.
type Meta struct {
	Column
	Value string
}

// Options say how Layout lays a table out beyond Table's defaults.
type Options struct {
	// Names, when set, adds the names of country and region codes (see TableWithNames).
	Names Namer
	// Noisy says the counts were released under differential privacy: every count is
	// written, none is suppressed (a suppressed cell is refused), so there are no
	// #meta+suppressed columns; and a combination with no cell is written empty, not 0,
	// since the release left it out (too rare to show) rather than found it empty.
	Noisy bool
	// Meta columns end every row. A table without any row then gets one, its other values
	// empty, so that the file still says how it was released.
	Meta []Meta
}

// Layout is Table with opt.
func Layout(measure string, dims []string, cells []Cell, opt Options) ([]Column, [][]string, error) {
	name := opt.Names
	m, ok := lookupMeasure(measure)
	if !ok {
		return nil, nil, fmt.Errorf("%w: unknown measure %q", ErrInvalid, measure)
	}
	var cols []Column
	var rowDims, pivotDims []int
	specs := make([]dimension, len(dims))
	seen := map[string]bool{}
	for i, dim := range dims {
		d, ok := lookupDimension(dim)
		if !ok {
			return nil, nil, fmt.Errorf("%w: unknown dimension %q", ErrInvalid, dim)
		}
		if seen[d.header] {
			return nil, nil, fmt.Errorf("%w: dimension %q given twice", ErrInvalid, dim)
		}
		seen[d.header] = true
		specs[i] = d
		if d.attrs != nil {
			pivotDims = append(pivotDims, i)
			continue
		}
		rowDims = append(rowDims, i)
		cols = append(cols, Column{Header: d.header, Tag: d.tag})
		if name != nil && d.nameTag != "" {
			cols = append(cols, Column{Header: d.header + " name", Tag: d.nameTag})
		}
	}

	// Index each cell by its row (the row dimensions' keys) and its combination (the position
	// of each pivot dimension's code in that dimension's attribute list).
	type place struct{ row, combo string }
	byPlace := make(map[place]Cell, len(cells))
	rowKeys := map[string][]string{}
	combos := map[string][]int{}
	for n, c := range cells {
		if len(c.Keys) != len(dims) {
			return nil, nil, fmt.Errorf("%w: cell %d has %d keys for %d dimensions", ErrInvalid, n, len(c.Keys), len(dims))
		}
		if c.Count < 0 {
			return nil, nil, fmt.Errorf("%w: cell %d has a negative count", ErrInvalid, n)
		}
		if c.Suppressed && opt.Noisy {
			return nil, nil, fmt.Errorf("%w: cell %d is suppressed in a noisy table", ErrInvalid, n)
		}
		for i, k := range c.Keys {
			if k == "" {
				return nil, nil, fmt.Errorf("%w: cell %d: empty key for %s (totals are not written)", ErrInvalid, n, dims[i])
			}
		}
		rk := make([]string, len(rowDims))
		for j, i := range rowDims {
			rk[j] = c.Keys[i]
		}
		pos := make([]int, len(pivotDims))
		for j, i := range pivotDims {
			pos[j] = slices.IndexFunc(specs[i].attrs, func(a attribute) bool { return a.code == c.Keys[i] })
			if pos[j] < 0 {
				return nil, nil, fmt.Errorf("%w: cell %d: unknown code for %s", ErrInvalid, n, dims[i])
			}
		}
		p := place{strings.Join(rk, "\x00"), fmt.Sprint(pos)}
		if _, dup := byPlace[p]; dup {
			return nil, nil, fmt.Errorf("%w: cell %d repeats the keys of an earlier cell", ErrInvalid, n)
		}
		byPlace[p] = c
		rowKeys[p.row] = rk
		combos[p.combo] = pos
	}

	comboOrder := make([]string, 0, len(combos))
	for k := range combos {
		comboOrder = append(comboOrder, k)
	}
	slices.SortFunc(comboOrder, func(a, b string) int { return slices.Compare(combos[a], combos[b]) })
	if len(comboOrder) == 0 {
		// No cells: still one count column, so that the file says what it would count.
		comboOrder = []string{fmt.Sprint([]int{})}
		combos[comboOrder[0]] = []int{}
	}
	for _, k := range comboOrder {
		var attrs, labels []string
		for j, at := range combos[k] {
			a := specs[pivotDims[j]].attrs[at]
			attrs = append(attrs, "+"+a.attr)
			labels = append(labels, a.label)
		}
		header := m.header
		if len(labels) > 0 {
			header += ", " + strings.Join(labels, ", ")
		}
		cols = append(cols, Column{Header: header, Tag: m.tag + strings.Join(attrs, "")})
		if !opt.Noisy {
			cols = append(cols, Column{Header: header + ", suppressed", Tag: suppressedTag + strings.Join(attrs, "")})
		}
	}
	for _, meta := range opt.Meta {
		cols = append(cols, meta.Column)
	}

	rowOrder := make([]string, 0, len(rowKeys))
	for k := range rowKeys {
		rowOrder = append(rowOrder, k)
	}
	slices.SortFunc(rowOrder, func(a, b string) int { return slices.Compare(rowKeys[a], rowKeys[b]) })
	rows := make([][]string, 0, len(rowOrder))
	for _, rk := range rowOrder {
		var row []string
		for j, code := range rowKeys[rk] {
			row = append(row, code)
			if d := specs[rowDims[j]]; name != nil && d.nameTag != "" {
				n, _ := name(strings.TrimPrefix(dims[rowDims[j]], "DIMENSION_"), code)
				row = append(row, n)
			}
		}
		for _, ck := range comboOrder {
			c, ok := byPlace[place{rk, ck}]
			switch {
			case opt.Noisy && !ok:
				row = append(row, "")
			case opt.Noisy:
				row = append(row, strconv.FormatInt(c.Count, 10))
			case !ok:
				row = append(row, "0", "")
			case c.Suppressed:
				row = append(row, "", "true")
			default:
				row = append(row, strconv.FormatInt(c.Count, 10), "")
			}
		}
		rows = append(rows, row)
	}
	if len(opt.Meta) > 0 {
		if len(rows) == 0 {
			rows = append(rows, make([]string, len(cols)-len(opt.Meta)))
		}
		for i := range rows {
			for _, meta := range opt.Meta {
				rows[i] = append(rows[i], meta.Value)
			}
		}
	}
	return cols, rows, nil
}

// WriteTable is TableWithNames with Names, then Write.
func WriteTable(w io.Writer, measure string, dims []string, cells []Cell) error {
	return WriteLayout(w, measure, dims, cells, Options{Names: Names})
}

// WriteLayout is Layout, then Write.
func WriteLayout(w io.Writer, measure string, dims []string, cells []Cell, opt Options) error {
	cols, rows, err := Layout(measure, dims, cells, opt)
	if err != nil {
		return err
	}
	return Write(w, cols, rows)
}
