package attacktest

import (
	"encoding/binary"
	"math/bits"
)

// bitset is a set of atoms: the linear form "sum of these atoms' counts".
type bitset []uint64

func newBitset(n int) bitset { return make(bitset, (n+63)/64) }

func (b bitset) set(i int)      { b[i/64] |= 1 << (i % 64) }
func (b bitset) has(i int) bool { return b[i/64]&(1<<(i%64)) != 0 }

func (b bitset) clone() bitset { return append(bitset(nil), b...) }

// and keeps in b the atoms also in o.
func (b bitset) and(o bitset) {
	for i := range b {
		b[i] &= o[i]
	}
}

// andNot removes from b the atoms in o.
func (b bitset) andNot(o bitset) {
	for i := range b {
		b[i] &^= o[i]
	}
}

func (b bitset) or(o bitset) {
	for i := range b {
		b[i] |= o[i]
	}
}

func (b bitset) empty() bool {
	for _, w := range b {
		if w != 0 {
			return false
		}
	}
	return true
}

// subsetOf reports whether every atom of b is in o.
func (b bitset) subsetOf(o bitset) bool {
	for i := range b {
		if b[i]&^o[i] != 0 {
			return false
		}
	}
	return true
}

// each yields the atoms of b in order.
func (b bitset) each(yield func(int) bool) {
	for i, w := range b {
		for w != 0 {
			j := bits.TrailingZeros64(w)
			if !yield(i*64 + j) {
				return
			}
			w &= w - 1
		}
	}
}

// key is b as a map key.
func (b bitset) key() string {
	buf := make([]byte, 0, len(b)*8)
	for _, w := range b {
		buf = binary.LittleEndian.AppendUint64(buf, w)
	}
	return string(buf)
}
