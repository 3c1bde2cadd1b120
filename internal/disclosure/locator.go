package disclosure

// locator finds an entry by its key. The box search looks up several corners for every
// small cell, so this is the hot path: when the whole key space (every combination of
// values and totals) is small enough, a dense array indexed by the mixed-radix key,
// otherwise a map.
type locator struct {
	radix  [MaxDimensions]int64 // per dimension: values + 1 (the total)
	stride [MaxDimensions]int64 // per dimension: the slots one step of its coordinate moves
	dense  []int32              // entry + 1, 0 for none
	m      map[uint64]int32
}

// maxDense bounds the dense array (4 bytes a slot: 16 MiB). Three dimensions of 200, 100
// and 3 values take 61,000 slots; four of 250, 250, 100 and 3 (18.9 million) use the map.
const maxDense = 1 << 22

func newLocator(radix [MaxDimensions]int64, hint int) *locator {
	l := &locator{radix: radix}
	size := int64(1)
	for j, r := range radix {
		l.stride[j] = size
		size *= max(r, 1)
		if size > maxDense {
			l.m = make(map[uint64]int32, hint)
			return l
		}
	}
	l.dense = make([]int32, size)
	return l
}

func (l *locator) slot(k key) int64 {
	return int64(k[0])*l.stride[0] + int64(k[1])*l.stride[1] + int64(k[2])*l.stride[2] + int64(k[3])*l.stride[3]
}

func (l *locator) get(k key) (int32, bool) {
	if l.dense != nil {
		v := l.dense[l.slot(k)]
		return v - 1, v != 0
	}
	v, ok := l.m[pack(k)]
	return v, ok
}

func (l *locator) set(k key, i int32) {
	if l.dense != nil {
		l.dense[l.slot(k)] = i + 1
		return
	}
	l.m[pack(k)] = i
}
