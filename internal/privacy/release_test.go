package privacy_test

import (
	"errors"
	"fmt"
	"math"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/passage-cm/passage/internal/privacy"
)

// The noise comes from a cryptographically secure source that cannot be seeded, so these tests
// are statistical: each bound is loose enough that a correct release breaks it with a
// probability below one in a million (computed beside each bound), and tight enough that
// missing or mis-scaled noise, or a missing selection, breaks it every time.

// one is the common case: ε = 1 (0.5 for selection, 0.5 for the counts), one partition per
// person. The counts' Laplace scale is b = 1/0.5 = 2: variance 2b² = 8.
var one = privacy.Params{Epsilon: 1, Delta: privacy.DefaultDelta, MaxPartitionsContributed: 1}

func partitions(n int, count int64) []privacy.Partition {
	parts := make([]privacy.Partition, n)
	for i := range parts {
		parts[i] = privacy.Partition{Keys: []string{fmt.Sprintf("P%04d", i), "F"}, Count: count}
	}
	return parts
}

func release(t *testing.T, p privacy.Params, parts []privacy.Partition) []privacy.Partition {
	t.Helper()
	out, err := privacy.Release(p, parts)
	if err != nil {
		t.Fatalf("Release: %v", err)
	}
	return out
}

// TestReleaseKeepsLargeCountsClose: large partitions are always released, in the order given,
// with their keys, and within a wide bound of the truth. P(|noise| > 60) = e^(-60/2) ≈ 1e-13
// per count, over 2,000 counts.
func TestReleaseKeepsLargeCountsClose(t *testing.T) {
	t.Parallel()
	const truth = 100_000
	parts := partitions(200, truth)
	for range 10 {
		out := release(t, one, parts)
		if len(out) != len(parts) {
			t.Fatalf("released %d of %d partitions of %d persons each, want all", len(out), len(parts), truth)
		}
		for i, got := range out {
			if diff := cmp.Diff(parts[i].Keys, got.Keys); diff != "" {
				t.Fatalf("partition %d keys (-want +got):\n%s", i, diff)
			}
			if d := got.Count - truth; d < -60 || d > 60 {
				t.Errorf("partition %d: released %d for %d persons", i, got.Count, truth)
			}
		}
	}
}

// TestReleaseNoiseIsCalibrated: over many draws the released counts of a large partition
// average to the truth (the noise is unbiased) and spread as the Laplace mechanism with scale
// MaxPartitionsContributed/ε_counts says: no noise, or noise not scaled to the sensitivity or
// to the ε split, fails. With n = 2,000 draws the mean's standard error is sqrt(2b²/n); the
// bounds on the mean are 10 standard errors, those on the variance a factor of 2 (the sample
// variance of a Laplace has a relative standard error near 0.05 at this n).
func TestReleaseNoiseIsCalibrated(t *testing.T) {
	t.Parallel()
	const truth, draws = 5_000, 2_000
	for _, l0 := range []int64{1, 4} {
		t.Run(fmt.Sprintf("L0=%d", l0), func(t *testing.T) {
			t.Parallel()
			p := one
			p.MaxPartitionsContributed = l0
			b := float64(l0) / (p.Epsilon * (1 - privacy.SelectionShare))
			margin, err := privacy.Margin(p, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			if want := b * math.Log(20); math.Abs(margin-want) > 0.01*want {
				t.Errorf("Margin(95%%) = %g, want b·ln(20) = %g", margin, want)
			}
			values := make([]float64, 0, draws)
			for len(values) < draws {
				for _, got := range release(t, p, partitions(200, truth)) {
					values = append(values, float64(got.Count))
				}
			}
			var sum, within float64
			for _, v := range values {
				sum += v
				if math.Abs(v-truth) <= margin {
					within++
				}
			}
			mean := sum / draws
			var ss float64
			for _, v := range values {
				ss += (v - mean) * (v - mean)
			}
			variance := ss / (draws - 1)
			wantVar := 2 * b * b
			if se := math.Sqrt(wantVar / draws); math.Abs(mean-truth) > 10*se {
				t.Errorf("mean of %d releases = %.3f, want %d ± %.3f", draws, mean, truth, 10*se)
			}
			if variance < wantVar/2 || variance > 2*wantVar {
				t.Errorf("variance of %d releases = %.2f, want about 2b² = %.2f", draws, variance, wantVar)
			}
			if share := within / draws; share < 0.92 || share > 0.98 {
				t.Errorf("%.3f of the counts within the 95%% margin ±%.2f, want about 0.95", share, margin)
			}
		})
	}
}

// TestReleaseDropsRarePartitions: a partition of one person is kept with probability δ/L0,
// so out of 20,000 tries, at δ = 1e-7, more than two kept has a probability near 1e-9 (and
// none is what one sees). Without partition selection every one of them would appear. A few
// persons are dropped almost as surely at a small ε; a large partition next to them is kept.
func TestReleaseDropsRarePartitions(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		p       privacy.Params
		persons int64
		tries   int
	}{
		{"one person, ε=1", one, 1, 20_000},
		{"one person, ε=0.1", privacy.Params{Epsilon: 0.1, Delta: privacy.DefaultDelta, MaxPartitionsContributed: 1}, 1, 20_000},
		// Above three partitions per person the library thresholds a Gaussian count instead,
		// which keeps one person with a probability below δ. It is slower: fewer tries.
		{"one person, L0=5", privacy.Params{Epsilon: 1, Delta: privacy.DefaultDelta, MaxPartitionsContributed: 5}, 1, 2_000},
		// keep(3) = δ(1 + e^0.05 + e^0.1) ≈ 3.2e-7 at ε = 0.1: more than two of 20,000 kept has
		// a probability near 5e-8.
		{"three persons, ε=0.1", privacy.Params{Epsilon: 0.1, Delta: privacy.DefaultDelta, MaxPartitionsContributed: 1}, 3, 20_000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			parts := append(partitions(tc.tries, tc.persons), privacy.Partition{Keys: []string{"LARGE", "F"}, Count: 1_000_000})
			out := release(t, tc.p, parts)
			if len(out) == 0 || out[len(out)-1].Keys[0] != "LARGE" {
				t.Fatalf("the partition of a million persons was not released")
			}
			if rare := len(out) - 1; rare > 2 {
				t.Errorf("%d of %d partitions of %d persons released, want at most 2", rare, tc.tries, tc.persons)
			}
		})
	}
}

// TestReleaseNeverNegative: small partitions, near the size selection starts keeping, under
// the largest ε and δ allowed: whatever is released counts 0 or more. (Selection keeps a
// partition only when its count is many noise scales above 0, so a negative noisy count is
// rare here; the clamp itself is tested on the counts alone, in TestNoisyCountClamps.)
func TestReleaseNeverNegative(t *testing.T) {
	t.Parallel()
	p := privacy.Params{Epsilon: privacy.MaxEpsilon, Delta: privacy.MaxDelta, MaxPartitionsContributed: 1}
	parts := make([]privacy.Partition, 2_000)
	for i := range parts {
		parts[i] = privacy.Partition{Keys: []string{fmt.Sprint(i)}, Count: int64(1 + i%25)}
	}
	released := 0
	for range 5 {
		for _, got := range release(t, p, parts) {
			released++
			if got.Count < 0 {
				t.Fatalf("released a count of %d", got.Count)
			}
		}
	}
	if released == 0 {
		t.Fatal("nothing released: the check proves nothing")
	}
}

// TestReleaseOfNothing: no partitions, no release; a partition with nobody is never released.
func TestReleaseOfNothing(t *testing.T) {
	t.Parallel()
	if out := release(t, one, nil); len(out) != 0 {
		t.Errorf("Release(nil) = %v", out)
	}
	if out := release(t, one, partitions(1_000, 0)); len(out) != 0 {
		t.Errorf("released %d empty partitions", len(out))
	}
}

// TestReleaseCopiesKeys: the release is the caller's to keep; changing the input after does
// not change it.
func TestReleaseCopiesKeys(t *testing.T) {
	t.Parallel()
	parts := partitions(1, 1_000_000)
	out := release(t, one, parts)
	parts[0].Keys[0] = "CHANGED"
	if out[0].Keys[0] != "P0000" {
		t.Errorf("released keys follow the input: %v", out[0].Keys)
	}
}

// TestReleaseRefusesBadArguments: each bad argument is refused as ErrInvalid naming it, before
// anything is released.
func TestReleaseRefusesBadArguments(t *testing.T) {
	t.Parallel()
	good := partitions(3, 100)
	for _, tc := range []struct {
		name  string
		p     privacy.Params
		parts []privacy.Partition
		field string
	}{
		{"epsilon 0", privacy.Params{Epsilon: 0, Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"epsilon negative", privacy.Params{Epsilon: -1, Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"epsilon NaN", privacy.Params{Epsilon: math.NaN(), Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"epsilon infinite", privacy.Params{Epsilon: math.Inf(1), Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"epsilon above the maximum", privacy.Params{Epsilon: privacy.MaxEpsilon * 1.01, Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"epsilon too small to split", privacy.Params{Epsilon: 0x1p-51, Delta: 1e-7, MaxPartitionsContributed: 1}, good, "epsilon"},
		{"delta 0", privacy.Params{Epsilon: 1, Delta: 0, MaxPartitionsContributed: 1}, good, "delta"},
		{"delta negative", privacy.Params{Epsilon: 1, Delta: -1e-7, MaxPartitionsContributed: 1}, good, "delta"},
		{"delta NaN", privacy.Params{Epsilon: 1, Delta: math.NaN(), MaxPartitionsContributed: 1}, good, "delta"},
		{"delta above the maximum", privacy.Params{Epsilon: 1, Delta: 1e-3, MaxPartitionsContributed: 1}, good, "delta"},
		{"no partition per person", privacy.Params{Epsilon: 1, Delta: 1e-7, MaxPartitionsContributed: 0}, good, "max_partitions_contributed"},
		{"negative partitions per person", privacy.Params{Epsilon: 1, Delta: 1e-7, MaxPartitionsContributed: -3}, good, "max_partitions_contributed"},
		{"negative count", one, []privacy.Partition{{Keys: []string{"A"}, Count: -1}}, "partitions"},
		{"partition twice", one, []privacy.Partition{{Keys: []string{"A", "B"}, Count: 5}, {Keys: []string{"A", "B"}, Count: 7}}, "partitions"},
		{"keys of different lengths", one, []privacy.Partition{{Keys: []string{"A", "B"}, Count: 5}, {Keys: []string{"A"}, Count: 7}}, "partitions"},
		// Without the check, ["A\x00B"] and ["A", "B"] would be one partition to the duplicate
		// test, or, joined otherwise, two partitions that look alike.
		{"key with NUL", one, []privacy.Partition{{Keys: []string{"A\x00B"}, Count: 5}}, "partitions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			out, err := privacy.Release(tc.p, tc.parts)
			var inv *privacy.InvalidError
			if !errors.Is(err, privacy.ErrInvalid) || !errors.As(err, &inv) || inv.Field != tc.field {
				t.Fatalf("Release: %v, want an invalid %s", err, tc.field)
			}
			if out != nil {
				t.Errorf("released %v with the error", out)
			}
		})
	}
	if _, err := privacy.Margin(one, 1); !errors.Is(err, privacy.ErrInvalid) {
		t.Errorf("Margin at 100%% confidence: %v, want ErrInvalid", err)
	}
}

func TestContributionBound(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		values []int64
		want   int64
	}{
		{nil, 1},
		{[]int64{1, 1, 1}, 1},
		{[]int64{1, 8}, 8},   // year × type of exploitation (eight types)
		{[]int64{8, 10}, 80}, // type of exploitation × means of control
	} {
		if got, err := privacy.ContributionBound(tc.values...); err != nil || got != tc.want {
			t.Errorf("ContributionBound(%v) = %d, %v, want %d", tc.values, got, err, tc.want)
		}
	}
	for _, values := range [][]int64{{0}, {1, -2}, {1 << 11, 1 << 10}, {math.MaxInt64, math.MaxInt64}} {
		if _, err := privacy.ContributionBound(values...); !errors.Is(err, privacy.ErrInvalid) {
			t.Errorf("ContributionBound(%v): %v, want ErrInvalid", values, err)
		}
	}
}

// BenchmarkRelease is a table of 1,000 partitions (e.g. host country × sex × year) at ε = 1.
func BenchmarkRelease(b *testing.B) {
	parts := make([]privacy.Partition, 1_000)
	for i := range parts {
		parts[i] = privacy.Partition{Keys: []string{fmt.Sprintf("C%03d", i), "F", "2015"}, Count: int64(i * 7)}
	}
	for b.Loop() {
		if _, err := privacy.Release(one, parts); err != nil {
			b.Fatal(err)
		}
	}
}
