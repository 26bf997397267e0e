package main

import (
	"encoding/xml"
	"errors"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestBucketsCoverEveryValue checks that bucketOf and bucketRange agree: every value lands
// in a bucket whose range holds it, buckets are contiguous, and the last one ends at the
// largest uint64.
func TestBucketsCoverEveryValue(t *testing.T) {
	values := []uint64{0, 1, 63, 64, 127, 128, 129, 255, 256, 1000, 123456789, math.MaxInt64, math.MaxUint64}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, outside 0..%d", v, i, histBuckets-1)
		}
		lo, hi := bucketRange(i)
		if v < lo || v > hi {
			t.Errorf("bucketOf(%d) = %d with range [%d, %d]", v, i, lo, hi)
		}
	}
	var next uint64
	for i := range histBuckets {
		lo, hi := bucketRange(i)
		if lo != next || hi < lo {
			t.Fatalf("bucket %d is [%d, %d], want it to start at %d", i, lo, hi, next)
		}
		// The relative width is the histogram's promised precision.
		if lo > 0 && float64(hi-lo)/float64(lo) > 1.0/subCount {
			t.Fatalf("bucket %d is [%d, %d]: wider than 1/%d of its value", i, lo, hi, subCount)
		}
		next = hi + 1
	}
	if next != 0 { // wrapped around: the last bucket ends at MaxUint64
		t.Fatalf("the last bucket ends at %d, want %d", next-1, uint64(math.MaxUint64))
	}
}

// TestQuantiles compares the histogram's quantiles with the exact ones of a sorted sample.
func TestQuantiles(t *testing.T) {
	var h histogram
	var sample []time.Duration
	// A skewed distribution, as latencies are: mostly fast, a slow tail.
	for i := 1; i <= 10000; i++ {
		d := time.Duration(i) * time.Microsecond
		if i%100 == 0 {
			d = time.Duration(i) * time.Millisecond
		}
		h.Record(d)
		sample = append(sample, d)
	}
	slices.Sort(sample)
	for _, q := range []float64{0, 0.5, 0.9, 0.99, 0.999, 1} {
		rank := max(int(math.Ceil(q*float64(len(sample)))), 1)
		exact := sample[rank-1]
		got := h.Quantile(q)
		if got < exact || float64(got-exact) > float64(exact)/subCount {
			t.Errorf("Quantile(%v) = %v, exact %v: off by more than 1/%d", q, got, exact, subCount)
		}
	}
	if h.Count() != 10000 || h.Max() != sample[len(sample)-1] {
		t.Errorf("Count, Max = %d, %v", h.Count(), h.Max())
	}
}

// TestHistogramEdges covers the empty histogram, exact small values, negative durations
// and merging.
func TestHistogramEdges(t *testing.T) {
	var empty histogram
	if empty.Quantile(0.5) != 0 || empty.Count() != 0 {
		t.Errorf("empty histogram: Quantile %v, Count %d", empty.Quantile(0.5), empty.Count())
	}

	var a, b histogram
	for _, d := range []time.Duration{5, 7, 9} {
		a.Record(d)
	}
	b.Record(-3) // a clock step backwards must not panic or wrap around
	b.Record(100)
	a.Merge(&b)
	a.Merge(&empty)
	if a.Count() != 5 {
		t.Fatalf("merged Count = %d, want 5", a.Count())
	}
	for q, want := range map[float64]time.Duration{0: 0, 0.2: 0, 0.4: 5, 0.6: 7, 0.8: 9, 1: 100} {
		if got := a.Quantile(q); got != want {
			t.Errorf("Quantile(%v) = %v, want %v", q, got, want)
		}
	}
}

// TestSVGIsWellFormed renders a report with awkward labels and decodes it as XML.
func TestSVGIsWellFormed(t *testing.T) {
	rep := &report{
		Started:  time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Machine:  machineInfo{CPUModel: `Fast & "Cheap" <CPU>`, NumCPU: 2, GoVersion: "go1.26"},
		Settings: settings{LoginWorkers: 200},
		Targets: []targetResult{
			{Name: "bare net/http", Ratio: 1, ReqPerSec: 80000},
			{Name: "restauth memstore", Ratio: 0.9, Goal: 0.85, ReqPerSec: 72000},
			{Name: "restauth <sqlite> & co", Ratio: 1.2, Goal: 0.5, ReqPerSec: 96000},
		},
		Logins: []*loginResult{{Hasher: "argon2id", RatioToCeiling: 0.97, CeilingPerSec: 40, LoginsPerSec: 38.8}},
	}
	svg := renderSVG(rep)
	dec := xml.NewDecoder(strings.NewReader(string(svg)))
	var root string
	var texts []string
	inText := false
	for {
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if root == "" {
				root = tok.Name.Local
			}
			inText = tok.Name.Local == "text"
		case xml.CharData:
			if inText {
				texts = append(texts, string(tok))
			}
		case xml.EndElement:
			inText = false
		}
	}
	if root != "svg" {
		t.Errorf("root element is %q, want svg", root)
	}
	all := strings.Join(texts, "\n")
	for _, want := range []string{"restauth <sqlite> & co", "0.90×", "argon2id", `Fast & "Cheap" <CPU>`} {
		if !strings.Contains(all, want) {
			t.Errorf("no text %q in the SVG's labels:\n%s", want, all)
		}
	}
}

// TestBareHandler checks the reference handler: the token is required, the body fixed.
func TestBareHandler(t *testing.T) {
	body := []byte(`{"pk":1}`)
	h := bareHandler("inv-abc", body)
	for _, c := range []struct {
		auth string
		code int
	}{{"Token inv-abc", http.StatusOK}, {"Token inv-abd", http.StatusUnauthorized}, {"", http.StatusUnauthorized}} {
		req := httptest.NewRequest(http.MethodGet, userPath, nil)
		if c.auth != "" {
			req.Header.Set("Authorization", c.auth)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("Authorization %q: status %d, want %d", c.auth, rec.Code, c.code)
		}
		if c.code == http.StatusOK && (rec.Body.String() != string(body) || rec.Header().Get("Content-Type") != "application/json") {
			t.Errorf("body %q, Content-Type %q", rec.Body.String(), rec.Header().Get("Content-Type"))
		}
	}
}

// TestThousands pins the number format of the table.
func TestThousands(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 999.4: "999", 999.6: "1,000", 41234.6: "41,235", 1234567: "1,234,567"} {
		if got := thousands(v); got != want {
			t.Errorf("thousands(%v) = %q, want %q", v, got, want)
		}
	}
}

// TestDefaultRunFitsThreeMinutes checks, from the flags' defaults, that the default run
// (with PostgreSQL too) is planned well inside issue 7's 3 minutes, leaving room for
// set-up, hashing and shutdown.
func TestDefaultRunFitsThreeMinutes(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	o.dsn = "postgres://example"
	if d := expectedDuration(o); d > 2*time.Minute {
		t.Errorf("the default run is planned at %v", d)
	}
	if _, err := parseFlags([]string{"-c", "0"}, io.Discard); err == nil {
		t.Error("-c 0 was accepted")
	}
}
