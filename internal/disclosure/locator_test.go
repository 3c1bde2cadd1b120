package disclosure

import (
	"math/rand/v2"
	"testing"
)

// TestLocator: the dense array and the hash table find the same entries (the hash table is
// taken for key spaces over maxDense, which the other tests never reach), the hash table
// growing from its smallest size on the way.
func TestLocator(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(3, 4))
	radix := [MaxDimensions]int64{7, 5, 3, 2}
	dense := newLocator(radix, 0)
	sparse := &locator{radix: radix, sparse: newHashIndex(0)}
	if dense.dense == nil {
		t.Fatal("a small key space got no dense array")
	}
	if big := newLocator([MaxDimensions]int64{250, 250, 100, 3}, 0); big.dense != nil {
		t.Fatal("a key space of 18.75 million slots got a dense array")
	}
	want := map[key]int32{}
	for i := int32(0); i < 60; i++ {
		k := key{r.Int32N(7), r.Int32N(5), r.Int32N(3), r.Int32N(2)}
		want[k] = i
		dense.set(k, i)
		sparse.set(k, i)
	}
	for a := int32(0); a < 7; a++ {
		for b := int32(0); b < 5; b++ {
			for c := int32(0); c < 3; c++ {
				for d := int32(0); d < 2; d++ {
					k := key{a, b, c, d}
					w, ok := want[k]
					for name, l := range map[string]*locator{"dense": dense, "hash": sparse} {
						if g, gok := l.get(k); gok != ok || (ok && g != w) {
							t.Errorf("%s get(%v) = %d, %v; want %d, %v", name, k, g, gok, w, ok)
						}
					}
				}
			}
		}
	}
}
