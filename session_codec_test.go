package restauth

import (
	"encoding/binary"
	"encoding/gob"
	"math"
	"testing"
	"time"

	"github.com/alexedwards/scs/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// codecHostValue and codecHostRole stand for types a host puts in the shared session
// manager: restauth does not know them, so they travel by gob, registered as gob wants.
type codecHostValue struct {
	Name  string
	Count int
	Tags  []string
}

type codecHostRole string

// codecUnregistered is a host type nobody registered with gob.
type codecUnregistered struct{ X int }

func init() {
	// gob cannot send a time.Time in an interface unregistered (sessionCodec can): the
	// comparisons with GobCodec below need it, as a host that stored one with it did.
	gob.Register(time.Time{})
	gob.Register(codecHostValue{})
	gob.Register(codecHostRole(""))
}

// codecDeadline is a deadline as scs makes one (time.Now().Add(Lifetime).UTC()).
var codecDeadline = time.Date(2026, 12, 16, 5, 45, 3, 123456789, time.UTC)

// codecCases are the value maps the round-trip tests run: every native type alone, what a
// logged-in session holds, and host types beside restauth's.
func codecCases() []struct {
	name   string
	values map[string]interface{}
	native bool // every value is written natively: no gob section
} {
	return []struct {
		name   string
		values map[string]interface{}
		native bool
	}{
		{"empty map", map[string]interface{}{}, true},
		{"string", map[string]interface{}{"s": "héllo\x00world"}, true},
		{"empty string and empty key", map[string]interface{}{"": ""}, true},
		{"bool true", map[string]interface{}{"b": true}, true},
		{"bool false", map[string]interface{}{"b": false}, true},
		{"int64", map[string]interface{}{"a": int64(0), "b": int64(math.MaxInt64), "c": int64(math.MinInt64), "d": int64(-1)}, true},
		{"int", map[string]interface{}{"a": 0, "b": math.MaxInt, "c": math.MinInt}, true},
		{"int32", map[string]interface{}{"a": int32(math.MaxInt32), "b": int32(math.MinInt32)}, true},
		{"uint64", map[string]interface{}{"a": uint64(math.MaxUint64), "b": uint64(0)}, true},
		{"float64", map[string]interface{}{"a": 1.5, "b": math.Inf(-1), "c": math.Copysign(0, -1), "d": math.SmallestNonzeroFloat64}, true},
		{"bytes", map[string]interface{}{"a": []byte{0, 1, 0xff}, "b": []byte{}}, true},
		{"time UTC", map[string]interface{}{"t": time.Date(2024, 2, 29, 23, 59, 59, 999999999, time.UTC)}, true},
		{"time zero", map[string]interface{}{"t": time.Time{}}, true},
		{"time fixed zone", map[string]interface{}{"t": time.Date(2024, 6, 1, 12, 0, 0, 0, time.FixedZone("X", 5*3600+30*60))}, true},
		{"time second offset", map[string]interface{}{"t": time.Date(1900, 1, 1, 0, 0, 0, 0, time.FixedZone("LMT", 1172))}, true},
		{"nil", map[string]interface{}{"n": nil}, true},
		{"logged-in session", map[string]interface{}{
			sessionUserKey: int64(42), sessionHashKey: "c0ffee", sessionAuthRecordsKey: `[{"method":"password","at":1733100000}]`,
			"__rememberMe": true, sessionPendingExpiresKey: int64(1733100300),
		}, true},
		{"host struct", map[string]interface{}{"cart": codecHostValue{Name: "n", Count: 3, Tags: []string{"a", "b"}}}, false},
		{"host named string", map[string]interface{}{"role": codecHostRole("admin")}, false},
		{"host slice and map", map[string]interface{}{"ids": []int{1, 2}, "names": []string{"x"}}, false},
		{"host types beside restauth's", map[string]interface{}{
			sessionUserKey: int64(7), sessionHashKey: "h", "cart": codecHostValue{Name: "c"}, "role": codecHostRole("r"),
			"uint8": uint8(3), "float32": float32(1.25),
		}, false},
	}
}

func TestSessionCodecRoundTrip(t *testing.T) {
	t.Parallel()
	for _, tc := range codecCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b, err := sessionCodec{}.Encode(codecDeadline, tc.values)
			require.NoError(t, err)
			require.Greater(t, len(b), 2)
			assert.Equal(t, []byte{sessionCodecMagic, sessionCodecVersion}, b[:2], "the format marker")
			if tc.native {
				assert.Equal(t, byte(0), b[len(b)-1], "no gob section when restauth writes every value itself")
			}

			deadline, got, err := sessionCodec{}.Decode(b)
			require.NoError(t, err)
			assert.True(t, deadline.Equal(codecDeadline), "deadline %v", deadline)
			assert.Equal(t, codecDeadline, deadline, "the deadline's instant and zone")
			require.Len(t, got, len(tc.values))
			for k, want := range tc.values {
				require.Contains(t, got, k)
				assert.IsType(t, want, got[k], "key %q keeps its type", k)
				if wt, ok := want.(time.Time); ok {
					gt := got[k].(time.Time)
					assert.True(t, wt.Equal(gt), "key %q keeps its instant: %v, %v", k, wt, gt)
					_, wo := wt.Zone()
					_, gotOffset := gt.Zone()
					assert.Equal(t, wo, gotOffset, "key %q keeps its zone offset", k)
					continue
				}
				if wb, ok := want.([]byte); ok { // empty comes back nil, as from gob
					assert.Equal(t, string(wb), string(got[k].([]byte)), "key %q", k)
					continue
				}
				assert.Equal(t, want, got[k], "key %q", k)
			}

			// What scs's own codec hands back for the same values is what this one does,
			// down to the time.Location of a time and a float's sign.
			fromGob, err := scs.GobCodec{}.Encode(codecDeadline, tc.values)
			require.NoError(t, err)
			_, viaGob, err := scs.GobCodec{}.Decode(fromGob)
			require.NoError(t, err)
			if len(viaGob) == 0 {
				viaGob = map[string]interface{}{} // gob sends an empty map as none
			}
			assert.Equal(t, viaGob, got, "the same values, types and zones as GobCodec's")
		})
	}
}

// TestSessionCodecTimesLoseOnlyTheMonotonicReading: a time.Now() value and deadline come
// back as the same instant, equal with == to the time stripped of its monotonic reading,
// which no store can keep (gob drops it too).
func TestSessionCodecTimesLoseOnlyTheMonotonicReading(t *testing.T) {
	t.Parallel()
	now := time.Now()
	deadline := now.Add(time.Hour)
	b, err := sessionCodec{}.Encode(deadline, map[string]interface{}{"at": now})
	require.NoError(t, err)
	gotDeadline, got, err := sessionCodec{}.Decode(b)
	require.NoError(t, err)
	at, ok := got["at"].(time.Time)
	require.True(t, ok)
	assert.True(t, at.Equal(now))
	assert.True(t, at == now.Round(0), "%#v != %#v", at, now.Round(0))
	assert.True(t, gotDeadline == deadline.Round(0), "%#v != %#v", gotDeadline, deadline.Round(0))
}

// TestSessionCodecDecodesGobBlobs: sessions saved by scs.GobCodec before the upgrade read
// back as GobCodec reads them, deadline and values.
func TestSessionCodecDecodesGobBlobs(t *testing.T) {
	t.Parallel()
	for _, tc := range codecCases() {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			old, err := scs.GobCodec{}.Encode(codecDeadline, tc.values)
			require.NoError(t, err)
			wantDeadline, want, err := scs.GobCodec{}.Decode(old)
			require.NoError(t, err)
			deadline, got, err := sessionCodec{}.Decode(old)
			require.NoError(t, err)
			assert.Equal(t, wantDeadline, deadline)
			assert.Equal(t, want, got)
		})
	}
}

// TestGobNeverStartsWithTheMarker pins the reasoning of sessionCodec's doc: gob's first
// byte is a message length, 0x00–0x7F or a negated byte count 0xF8–0xFF, and gob refuses a
// stream that starts with the marker.
func TestGobNeverStartsWithTheMarker(t *testing.T) {
	t.Parallel()
	require.True(t, sessionCodecMagic >= 0x80 && sessionCodecMagic <= 0xF7)
	for _, tc := range codecCases() {
		old, err := scs.GobCodec{}.Encode(codecDeadline, tc.values)
		require.NoError(t, err)
		assert.True(t, old[0] < 0x80 || old[0] >= 0xF8, "%s: gob began with %#x", tc.name, old[0])
	}
	b, err := sessionCodec{}.Encode(codecDeadline, map[string]interface{}{"k": "v"})
	require.NoError(t, err)
	_, _, err = scs.GobCodec{}.Decode(b)
	assert.Error(t, err, "gob reads no blob of ours, so none can be mistaken for the other")
}

// TestSessionCodecRefusesCorruptBlobs: truncated or corrupt blobs are errors. Every prefix
// of a good blob is one, and so is each hand-made fault.
func TestSessionCodecRefusesCorruptBlobs(t *testing.T) {
	t.Parallel()
	good, err := sessionCodec{}.Encode(codecDeadline, map[string]interface{}{
		"s": "value", "i": int64(-300), "t": codecDeadline, "f": 2.5, "b": []byte("raw"), "cart": codecHostValue{Name: "x"},
	})
	require.NoError(t, err)
	for n := range len(good) {
		_, _, err := sessionCodec{}.Decode(good[:n])
		assert.Error(t, err, "a blob cut to %d of %d bytes", n, len(good))
	}
	_, _, err = sessionCodec{}.Decode(append(good[:len(good):len(good)], 0))
	assert.Error(t, err, "a trailing byte")

	head := func() []byte {
		b, err := appendTime([]byte{sessionCodecMagic, sessionCodecVersion}, codecDeadline)
		require.NoError(t, err)
		return b
	}
	entry := func(b []byte, key string, tag byte, payload ...byte) []byte {
		return append(append(appendBytes(b, key), tag), payload...)
	}
	tests := []struct {
		name string
		blob []byte
	}{
		{"unknown version", append([]byte{sessionCodecMagic, sessionCodecVersion + 1}, head()[2:]...)},
		{"no version", []byte{sessionCodecMagic}},
		{"deadline not a time", append([]byte{sessionCodecMagic, sessionCodecVersion, 3}, 'a', 'b', 'c', 0, 0)},
		{"count past the blob", append(append(head(), 0xff, 0xff, 0xff, 0xff, 0x0f), 0)},
		{"count one too many", append(entry(append(head(), 2), "k", sessionTagTrue), 0)},
		{"unknown tag", append(entry(append(head(), 1), "k", 0x7f), 0)},
		{"key twice", append(entry(entry(append(head(), 2), "k", sessionTagTrue), "k", sessionTagFalse), 0)},
		{"string past the blob", append(entry(append(head(), 1), "k", sessionTagString, 9, 'a'), 0)},
		{"varint unterminated", entry(append(head(), 1), "k", sessionTagInt64, 0x80, 0x80)},
		{"int32 out of range", append(entry(append(head(), 1), "k", sessionTagInt32, binary.AppendVarint(nil, math.MaxInt32+1)...), 0)},
		{"float64 short", append(entry(append(head(), 1), "k", sessionTagFloat64, 1, 2, 3), 0)},
		{"time not a time", append(entry(append(head(), 1), "k", sessionTagTime, 2, 9, 9), 0)},
		{"gob section not gob", append(append(head(), 0), 3, 0x80, 1, 2)},
		{"gob section repeats a native key", func() []byte {
			g, err := scs.GobCodec{}.Encode(time.Time{}, map[string]interface{}{"k": codecHostRole("r")})
			require.NoError(t, err)
			return appendBytes(entry(append(head(), 1), "k", sessionTagTrue), g)
		}()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			assert.NotPanics(t, func() {
				_, values, err := sessionCodec{}.Decode(tc.blob)
				assert.Error(t, err)
				assert.Nil(t, values)
			})
		})
	}
}

// TestSessionCodecEncodeErrors: a value gob cannot send fails the save, as it did with
// GobCodec, instead of vanishing from the session.
func TestSessionCodecEncodeErrors(t *testing.T) {
	t.Parallel()
	values := map[string]interface{}{sessionUserKey: int64(1), "x": codecUnregistered{X: 1}}
	_, gobErr := scs.GobCodec{}.Encode(codecDeadline, values)
	require.Error(t, gobErr)
	_, err := sessionCodec{}.Encode(codecDeadline, values)
	assert.Error(t, err)
}

// FuzzSessionCodecDecode: any input decodes or is an error, never a panic; what decodes
// encodes again and reads back the same deadline and keys.
func FuzzSessionCodecDecode(f *testing.F) {
	for _, tc := range codecCases() {
		b, err := sessionCodec{}.Encode(codecDeadline, tc.values)
		require.NoError(f, err)
		f.Add(b)
		old, err := scs.GobCodec{}.Encode(codecDeadline, tc.values)
		require.NoError(f, err)
		f.Add(old)
	}
	f.Add([]byte{})
	f.Add([]byte{sessionCodecMagic})
	f.Fuzz(func(t *testing.T, b []byte) {
		deadline, values, err := sessionCodec{}.Decode(b)
		if err != nil {
			return
		}
		again, err := sessionCodec{}.Encode(deadline, values)
		if err != nil {
			return // a gob blob may hold a value gob decodes but cannot encode back
		}
		deadline2, values2, err := sessionCodec{}.Decode(again)
		require.NoError(t, err)
		assert.True(t, deadline.Equal(deadline2))
		assert.Len(t, values2, len(values))
		for k := range values {
			assert.Contains(t, values2, k)
		}
	})
}

// BenchmarkSessionCodec is one save and one load (Encode then Decode) of a logged-in
// session's values, alone and beside a host's value (which takes the gob section), with
// scs's GobCodec and with sessionCodec.
func BenchmarkSessionCodec(b *testing.B) {
	restauths := map[string]interface{}{
		sessionUserKey:        int64(42),
		sessionHashKey:        "4f1c0a0d6f3e1b8e2b7b1c6a4d7f9e2c5a3b8d1e6f0c2a9b7d4e1f3a5c8b0d2e",
		sessionAuthRecordsKey: `[{"method":"password","at":1733100000,"username":"ada"}]`,
	}
	withHost := map[string]interface{}{"cart": codecHostValue{Name: "basket", Count: 2}}
	for k, v := range restauths {
		withHost[k] = v
	}
	for _, values := range []struct {
		name   string
		values map[string]interface{}
	}{{"values=restauth", restauths}, {"values=with-host", withHost}} {
		for _, tc := range []struct {
			name  string
			codec scs.Codec
		}{{"codec=gob", scs.GobCodec{}}, {"codec=restauth", sessionCodec{}}} {
			b.Run(values.name+"/"+tc.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					blob, err := tc.codec.Encode(codecDeadline, values.values)
					if err != nil {
						b.Fatal(err)
					}
					if _, got, err := tc.codec.Decode(blob); err != nil || len(got) != len(values.values) {
						b.Fatal(err, got)
					}
				}
			})
		}
	}
}
