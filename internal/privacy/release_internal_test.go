package privacy

import "testing"

// TestNoisyCountClamps: a count of nobody under heavy noise comes out below zero half the
// time before clamping; released, it is never negative, and it is 0 about half the time. The
// bounds (0.4 to 0.6 of 2,000) fail a correct clamp with a probability below 1e-18.
func TestNoisyCountClamps(t *testing.T) {
	t.Parallel()
	const draws = 2_000
	zeros := 0
	for range draws {
		n, err := noisyCount(0.01, 1, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n < 0 {
			t.Fatalf("noisy count %d", n)
		}
		if n == 0 {
			zeros++
		}
	}
	if zeros < draws*4/10 || zeros > draws*6/10 {
		t.Errorf("%d of %d noisy counts of nobody are 0, want about half", zeros, draws)
	}
}
