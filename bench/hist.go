package main

import (
	"math"
	"math/bits"
	"time"
)

// subBits sets the histogram's precision: each power of two is split into 2^subBits
// linear sub-buckets, so a recorded value is off by at most 1/2^subBits (1.6 %) of
// itself. That is finer than the run-to-run noise of any latency measured here.
const subBits = 6

const (
	// subCount is the number of sub-buckets per power of two.
	subCount = 1 << subBits
	// histBuckets covers every uint64: values below 2·subCount get one bucket each, and
	// each further power of two (exponents 1 … 64-subBits-1) gets subCount buckets.
	histBuckets = (64-subBits)*subCount + subCount
)

// histogram is an HDR-style log-linear latency histogram of nanosecond durations. Its size
// is fixed (about 30 KiB) whatever the number of samples, so a long run at high request
// rates keeps bounded memory, unlike a sorted sample of every latency. It is not safe for
// concurrent use: each load worker records into its own and the results are merged.
type histogram struct {
	counts   [histBuckets]uint64
	total    uint64
	min, max uint64
}

// bucketOf maps a value to its bucket index. Values below 2·subCount are exact; above,
// the index is (exponent, top subBits+1 bits), as in HdrHistogram.
func bucketOf(v uint64) int {
	if v < 2*subCount {
		return int(v)
	}
	e := bits.Len64(v) - (subBits + 1) // ≥ 1
	return e*subCount + int(v>>e)
}

// bucketRange returns the smallest and largest value that land in bucket i.
func bucketRange(i int) (lo, hi uint64) {
	if i < 2*subCount {
		return uint64(i), uint64(i)
	}
	e := i/subCount - 1
	m := uint64(i - e*subCount)
	lo = m << e
	return lo, lo + (uint64(1) << e) - 1
}

// Record adds one duration; negative durations count as zero.
func (h *histogram) Record(d time.Duration) {
	v := uint64(max(d, 0))
	h.counts[bucketOf(v)]++
	if h.total == 0 || v < h.min {
		h.min = v
	}
	if v > h.max {
		h.max = v
	}
	h.total++
}

// Merge adds o's samples to h.
func (h *histogram) Merge(o *histogram) {
	if o.total == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.total == 0 || o.min < h.min {
		h.min = o.min
	}
	h.max = max(h.max, o.max)
	h.total += o.total
}

// Count is the number of recorded samples.
func (h *histogram) Count() uint64 { return h.total }

// Quantile returns the q-quantile (0 ≤ q ≤ 1) as the upper edge of the bucket that holds
// the sample of rank ⌈q·n⌉, clamped to the largest sample: a value no recorded latency at
// that rank exceeds, within the bucket precision. It is 0 for an empty histogram.
func (h *histogram) Quantile(q float64) time.Duration {
	if h.total == 0 {
		return 0
	}
	q = min(max(q, 0), 1)
	rank := uint64(math.Ceil(q * float64(h.total)))
	rank = max(rank, 1) // q = 0 is the smallest sample
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			_, hi := bucketRange(i)
			return time.Duration(min(max(hi, h.min), h.max))
		}
	}
	return time.Duration(h.max)
}

// Max is the largest recorded duration.
func (h *histogram) Max() time.Duration { return time.Duration(h.max) }
