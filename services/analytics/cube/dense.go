package cube

import (
	"runtime"
	"slices"
	"strings"
)

// aggregateDense answers a query whose grouped dimensions' values, each with a slot for its
// total, multiply to at most denseLimit: HQ's common questions, nationality by host country
// by sex among them. It needs no hashing and no sorting:
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
// A multi-valued dimension is scanned by its sets (a person has one set, so the totals over
// it, added up along it, count each person once), then spread: each set's counts are added to
// each of its members' slots, and the totals move over as they are.
//
// It reports false, having done nothing, for a query it does not take (no dimension, too many
// combinations): expand answers those.
func (c *Cube) aggregateDense(p *part, filters []filter, group []groupCol) (Result, bool) {
	n := len(group)
	if n == 0 {
		return Result{}, false
	}
	axes := make([]axis, n)
	slots := make([][]int32, n)
	values := make([][]string, n)
	radix := make([]int, n)
	size, spread := 1, 1
	for i, g := range group {
		axes[i] = c.axis(g)
		slots[i], values[i], radix[i] = axes[i].slotOf, axes[i].values, axes[i].in
		size *= axes[i].in
		spread *= axes[i].out()
		if size > denseLimit || spread > denseLimit {
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
	for _, d := range dense[1:] {
		for i, v := range d {
			sum[i] += v
		}
		putDense(d)
	}
	marginals(sum, radix)
	for i, a := range axes {
		if a.members != nil {
			spreadSets(&sum, radix, i, a)
		}
	}
	defer putDense(sum)
	return emit(sum, radix, values), true
}

// axis is how aggregateDense numbers a grouped dimension.
type axis struct {
	// values lists the output value of each output slot, "" at 0.
	values []string
	// slotOf maps the dimension's stored ids to the slots the scan adds into: their output
	// slot, or for a multi-valued dimension their set's (its id + 1).
	slotOf []int32
	// in is the scan's slots (values, or sets, and the total).
	in int
	// members lists, for a multi-valued dimension, the output slots of each set slot's
	// members.
	members [][]int32
}

// out is the axis's output slots, the total's included.
func (a axis) out() int { return len(a.values) }

// axis numbers g's output values in string order (see aggregateDense).
func (c *Cube) axis(g groupCol) axis {
	stored := c.dicts[g.stored()].values
	out := c.outputDict(g)
	order := make([]int32, len(out.values))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int { return strings.Compare(out.values[a], out.values[b]) })
	outSlot := make([]int32, len(out.values)) // output id -> output slot
	a := axis{values: make([]string, len(out.values)+1), slotOf: make([]int32, len(stored))}
	for r, id := range order {
		outSlot[id] = int32(r + 1)
		a.values[r+1] = out.values[id]
	}
	if !g.dim.MultiValued() {
		for v := range stored {
			a.slotOf[v] = outSlot[c.values(g, uint16(v))[0]]
		}
		a.in = len(a.values)
		return a
	}
	a.members = make([][]int32, len(stored)+1)
	for v := range stored {
		a.slotOf[v] = int32(v + 1)
		for _, m := range c.values(g, uint16(v)) {
			a.members[v+1] = append(a.members[v+1], outSlot[m])
		}
	}
	a.in = len(stored) + 1
	return a
}

// spreadSets replaces dimension i's set slots of *sum by its members' slots: each set's counts
// are added to each of its members; slot 0, the totals over the dimension, moves as it is.
func spreadSets(sum *[]int64, radix []int, i int, a axis) {
	inner, outer := 1, 1
	for j := range radix {
		switch {
		case j < i:
			outer *= radix[j]
		case j > i:
			inner *= radix[j]
		}
	}
	in, out := *sum, getDense(outer*a.out()*inner)
	for o := range outer {
		src := in[o*radix[i]*inner : (o+1)*radix[i]*inner]
		dst := out[o*a.out()*inner : (o+1)*a.out()*inner]
		copy(dst[:inner], src[:inner])
		for set := 1; set < radix[i]; set++ {
			counts := src[set*inner : (set+1)*inner]
			for _, m := range a.members[set] {
				to := dst[int(m)*inner : (int(m)+1)*inner]
				for k, v := range counts {
					to[k] += v
				}
			}
		}
	}
	putDense(in)
	*sum, radix[i] = out, a.out()
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
