package hxl

import "github.com/passage-cm/passage/internal/disclosure"

// FromReleased is the cells of a table that went through disclosure control, ready for
// Table: the detail cells, suppressed ones included, without the marginal totals (which
// Table does not write; leaving them out releases less, never more).
func FromReleased(rs []disclosure.Released) []Cell {
	cells := make([]Cell, 0, len(rs))
	for _, r := range rs {
		if r.Total {
			continue
		}
		cells = append(cells, Cell{Keys: r.Keys, Count: r.Count, Suppressed: r.Suppressed})
	}
	return cells
}
