package cube

import (
	"runtime"
	"slices"
	"strings"
)

// aggregateDense answers a query over single-valued dimensions whose output values, each with
// a slot for its total, multiply to at most denseLimit: HQ's common questions, nationality by
// host country by sex among them. It needs no hashing and no sorting:
//   - each grouped dimension numbers its output values by their order as strings, from 1 (a
//     region by its own order, not its countries'); slot 0 of every dimension is "all";
//   - the scan adds each row into the slot of its cell, in a dense accumulator over every
//     combination of slots, totals included;
//   - adding, along each dimension in turn, every slot into its slot 0 fills in every total
//     (after the first dimension, slot 0 of dimension 0 holds the totals over it, and the
//     next pass adds those up too, giving the totals over both, and so on);
//   - the accumulator in index order is then in key order, "" first, so cells and totals are
//     read off it as they are to be returned.
//
// It reports false, having done nothing, for a query it does not take (a multi-valued
// dimension, no dimension, too many combinations): expand answers those.
func (c *Cube) aggregateDense(p *part, filters []filter, group []groupCol) (Result, bool) {
	n := len(group)
	if n == 0 {
		return Result{}, false
	}
	slots := make([][]int32, n)
	values := make([][]string, n)
	radix := make([]int, n)
	size := 1
	for i, g := range group {
		if g.dim.MultiValued() {
			return Result{}, false
		}
		slots[i], values[i] = c.slots(g)
		radix[i] = len(values[i])
		size *= radix[i]
		if size > denseLimit {
			return Result{}, false
		}
	}
	rows := len(p.persons)
	workers := max(min(runtime.GOMAXPROCS(0), rows/minShare), 1)
	if size*workers > denseLimit {
		workers = 1
	}
	dense := make([][]int64, workers)
	parallel(workers, func(w int) {
		dense[w] = getDense(size)
		scanDense(p.persons, rows*w/workers, rows*(w+1)/workers, filters, group, slots, radix, dense[w])
	})
	sum := dense[0]
	defer putDense(sum)
	for _, d := range dense[1:] {
		for i, v := range d {
			sum[i] += v
		}
		putDense(d)
	}
	marginals(sum, radix)
	return emit(sum, radix, values), true
}

// slots maps g's stored ids to their output slots (see aggregateDense) and lists the output
// value of each slot, "" at 0.
func (c *Cube) slots(g groupCol) ([]int32, []string) {
	stored := c.dicts[g.stored()].values
	out := c.outputDict(g)
	order := make([]int32, len(out.values))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(out.values[a], out.values[b]) })
	slotOf := make([]int32, len(out.values))
	values := make([]string, len(out.values)+1)
	for r, id := range order {
		slotOf[id] = int32(r + 1)
		values[r+1] = out.values[id]
	}
	bySlot := make([]int32, len(stored))
	for v := range stored {
		bySlot[v] = slotOf[c.values(g, uint16(v))[0]]
	}
	return bySlot, values
}

// marginals adds, along each dimension in turn, every slot into the dimension's slot 0, so
// that the slots with a 0 hold the totals over their dimensions.
func marginals(sum []int64, radix []int) {
	stride := len(sum)
	for _, r := range radix {
		// Within a block of stride slots, dimension i's coordinate moves by inner slots.
		inner := stride / r
		for base := 0; base < len(sum); base += stride {
			total := sum[base : base+inner]
			for c := 1; c < r; c++ {
				for k, v := range sum[base+c*inner : base+(c+1)*inner] {
					total[k] += v
				}
			}
		}
		stride = inner
	}
}

// emit reads cells and totals off the accumulator, in index order (which is key order): a
// slot with every coordinate above 0 is a cell, any other a total; zero counts are left out,
// but for the grand total (slot 0), which is always returned.
func emit(sum []int64, radix []int, values [][]string) Result {
	n := len(radix)
	var cellSlots, totalSlots []int32
	coord := make([]int, n)
	for idx, v := range sum {
		if v != 0 || idx == 0 {
			if slices.Contains(coord, 0) {
				totalSlots = append(totalSlots, int32(idx))
			} else {
				cellSlots = append(cellSlots, int32(idx))
			}
		}
		// The next index's coordinates, the last dimension moving fastest.
		for i := n - 1; i >= 0; i-- {
			if coord[i]++; coord[i] < radix[i] {
				break
			}
			coord[i] = 0
		}
	}
	backing := make([]string, (len(cellSlots)+len(totalSlots))*n) // one allocation for all keys
	read := func(idxs []int32) []Cell {
		out := make([]Cell, len(idxs))
		for j, idx := range idxs {
			keys := backing[:n:n]
			backing = backing[n:]
			rest := int(idx)
			for i := n - 1; i >= 0; i-- {
				keys[i] = values[i][rest%radix[i]]
				rest /= radix[i]
			}
			out[j] = Cell{Keys: keys, Count: sum[idx]}
		}
		return out
	}
	return Result{Cells: read(cellSlots), Totals: read(totalSlots)}
}
