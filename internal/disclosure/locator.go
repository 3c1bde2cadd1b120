package disclosure

import "math/bits"

// locator finds an entry by its key. The box search looks up several corners for every
// small cell, so this is the hot path: when the whole key space (every combination of
// values and totals) is small enough, a dense array indexed by the mixed-radix key,
// otherwise an open-addressing hash table of the packed keys.
type locator struct {
	radix  [MaxDimensions]int64 // per dimension: values + 1 (the total)
	stride [MaxDimensions]int64 // per dimension: the slots one step of its coordinate moves
	dense  []int32              // entry + 1, 0 for none
	sparse hashIndex
}

// maxDense bounds the dense array (4 bytes a slot: 16 MiB). Three dimensions of 200, 100
// and 3 values take 61,000 slots; three of 250 countries each (15.8 million) use the hash
// table.
const maxDense = 1 << 22

func newLocator(radix [MaxDimensions]int64, hint int) *locator {
	l := &locator{radix: radix}
	size := int64(1)
	for j, r := range radix {
		l.stride[j] = size
		size *= max(r, 1)
		if size > maxDense {
			l.sparse = newHashIndex(hint)
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
	return l.sparse.get(pack(k))
}

func (l *locator) set(k key, i int32) {
	if l.dense != nil {
		l.dense[l.slot(k)] = i + 1
		return
	}
	l.sparse.set(pack(k), i)
}

// hashIndex maps packed keys to entries: open addressing with linear probing over a
// power-of-two table kept at most half full, keys mixed before they pick a slot. Where a
// large table's key space is too big for the dense array (three dimensions of countries),
// its lookups were half of Suppress's time in Go's map; one slot holds the key and the entry
// together, so a lookup usually reads one cache line.
type hashIndex struct {
	slots []hashSlot
	shift uint // 64 - log2(len(slots))
	n     int
}

type hashSlot struct {
	key   uint64
	entry int32 // entry + 1, 0 for an empty slot
}

func newHashIndex(hint int) hashIndex {
	size := max(16, 1<<bits.Len(uint(2*hint)))
	return hashIndex{slots: make([]hashSlot, size), shift: uint(64 - bits.TrailingZeros(uint(size)))}
}

// home is k's first slot: the high bits of k mixed (splitmix64's finalizer; a multiplication
// alone left long runs of occupied slots for keys that differ in one coordinate).
func (h *hashIndex) home(k uint64) int {
	k ^= k >> 30
	k *= 0xbf58476d1ce4e5b9
	k ^= k >> 27
	k *= 0x94d049bb133111eb
	k ^= k >> 31
	return int(k >> h.shift)
}

func (h *hashIndex) get(k uint64) (int32, bool) {
	mask := len(h.slots) - 1
	for i := h.home(k); ; i = (i + 1) & mask {
		s := &h.slots[i]
		if s.entry == 0 {
			return -1, false
		}
		if s.key == k {
			return s.entry - 1, true
		}
	}
}

func (h *hashIndex) set(k uint64, entry int32) {
	if 2*(h.n+1) > len(h.slots) {
		h.grow()
	}
	mask := len(h.slots) - 1
	for i := h.home(k); ; i = (i + 1) & mask {
		s := &h.slots[i]
		if s.entry == 0 {
			*s = hashSlot{key: k, entry: entry + 1}
			h.n++
			return
		}
		if s.key == k {
			s.entry = entry + 1
			return
		}
	}
}

func (h *hashIndex) grow() {
	old := h.slots
	*h = newHashIndex(len(old))
	for _, s := range old {
		if s.entry != 0 {
			h.set(s.key, s.entry-1)
		}
	}
}
