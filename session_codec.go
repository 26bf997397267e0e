package restauth

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/alexedwards/scs/v2"
)

// sessionCodec is the scs.Codec of restauth's session manager. scs's default GobCodec
// builds a gob encoder and decoder, with their type descriptions, for every session it
// saves or loads: most of the time of a session check went there. The values restauth
// itself stores (strings, bools, int64s) and the common basic types are written here in a
// compact binary form; any other value a host puts in the shared manager goes, with the
// others of its kind, into one gob section of the same blob, so it keeps its type exactly
// as scs's GobCodec would (a host type still needs gob.Register, as before).
//
// Blob, version 1 (integers are varints as encoding/binary writes them):
//
//	magic 0xA7, version 0x01
//	uvarint len, deadline as time.Time.AppendBinary
//	uvarint n, then n entries: uvarint len, key, tag byte, payload (see the tag constants)
//	uvarint len, then that many bytes: the other values as scs.GobCodec writes them,
//	             with a zero deadline (len 0: no other values)
//
// Blobs that do not start with the magic byte are gob, as scs.GobCodec wrote them before
// this codec (sessions saved before an upgrade), and decode as such. That test is exact:
// a gob stream starts with its first message's length, an unsigned integer, which gob
// writes either as one byte 0x00–0x7F (a value below 128) or as its byte count negated,
// one byte 0xF8–0xFF (1 to 8 bytes, -1 to -8 as int8), then the bytes. A first byte in
// 0x80–0xF7 is never written by gob (its decoder rejects one as an invalid uint length),
// so 0xA7 cannot be a gob blob's first byte.
type sessionCodec struct{}

// sessionCodecMagic is the first byte of every blob sessionCodec writes; see sessionCodec
// for why gob never writes it first.
const sessionCodecMagic = 0xA7

// sessionCodecVersion is the format version after the magic byte. A later format takes
// the next number; Decode refuses versions it does not know rather than guess.
const sessionCodecVersion = 1

// Tags of a native entry. Each value keeps its Go type on decode: an int stays an int, an
// int64 an int64.
const (
	sessionTagNil     = 0  // no payload: a nil interface value
	sessionTagFalse   = 1  // no payload
	sessionTagTrue    = 2  // no payload
	sessionTagString  = 3  // uvarint len, bytes
	sessionTagBytes   = 4  // uvarint len, bytes ([]byte; an empty one decodes as nil, as with gob)
	sessionTagInt64   = 5  // varint
	sessionTagInt     = 6  // varint
	sessionTagInt32   = 7  // varint
	sessionTagUint64  = 8  // uvarint
	sessionTagFloat64 = 9  // 8 bytes, IEEE 754 bits, little endian
	sessionTagTime    = 10 // uvarint len, time.Time.AppendBinary (instant and zone offset, as gob keeps them)
)

// errSessionCodec is what Decode answers for a blob it cannot read: truncated, corrupt, or
// of an unknown version.
var errSessionCodec = errors.New("restauth: unreadable session data")

// Encode writes deadline and values; see sessionCodec for the format.
func (sessionCodec) Encode(deadline time.Time, values map[string]interface{}) ([]byte, error) {
	// One allocation for the usual session: the header, then per entry its key, the tag,
	// a string's bytes and room for lengths and numbers.
	native, size := 0, 32
	for k, v := range values {
		if isNativeSessionValue(v) {
			native++
			size += len(k) + 12
			switch v := v.(type) {
			case string:
				size += len(v)
			case []byte:
				size += len(v)
			}
		}
	}
	b := make([]byte, 0, size)
	b = append(b, sessionCodecMagic, sessionCodecVersion)
	var err error
	if b, err = appendTime(b, deadline); err != nil {
		return nil, err
	}
	b = binary.AppendUvarint(b, uint64(native))
	var others map[string]interface{}
	for k, v := range values {
		if !isNativeSessionValue(v) {
			if others == nil {
				others = make(map[string]interface{}, len(values)-native)
			}
			others[k] = v
			continue
		}
		b = appendBytes(b, k)
		if b, err = appendSessionValue(b, v); err != nil {
			return nil, err
		}
	}
	if others == nil {
		return binary.AppendUvarint(b, 0), nil
	}
	g, err := encodeGobValues(others)
	if err != nil {
		return nil, err
	}
	return appendBytes(b, g), nil
}

// isNativeSessionValue reports whether v is written natively (the exact types of
// appendSessionValue; a named type such as a host's `type role string` is not, and goes
// to gob, which keeps its name).
func isNativeSessionValue(v interface{}) bool {
	switch v.(type) {
	case nil, bool, string, []byte, int64, int, int32, uint64, float64, time.Time:
		return true
	}
	return false
}

// appendSessionValue appends v's tag and payload. v is one of isNativeSessionValue's types.
func appendSessionValue(b []byte, v interface{}) ([]byte, error) {
	switch v := v.(type) {
	case nil:
		return append(b, sessionTagNil), nil
	case bool:
		if v {
			return append(b, sessionTagTrue), nil
		}
		return append(b, sessionTagFalse), nil
	case string:
		return appendBytes(append(b, sessionTagString), v), nil
	case []byte:
		return appendBytes(append(b, sessionTagBytes), v), nil
	case int64:
		return binary.AppendVarint(append(b, sessionTagInt64), v), nil
	case int:
		return binary.AppendVarint(append(b, sessionTagInt), int64(v)), nil
	case int32:
		return binary.AppendVarint(append(b, sessionTagInt32), int64(v)), nil
	case uint64:
		return binary.AppendUvarint(append(b, sessionTagUint64), v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(append(b, sessionTagFloat64), math.Float64bits(v)), nil
	case time.Time:
		return appendTime(append(b, sessionTagTime), v)
	}
	return nil, fmt.Errorf("restauth: session value of type %T is not native", v)
}

// appendBytes appends s with its uvarint length.
func appendBytes[T string | []byte](b []byte, s T) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// appendTime appends t as gob would keep it (its MarshalBinary form, which holds the
// instant and the zone offset but not the monotonic reading), with its length.
func appendTime(b []byte, t time.Time) ([]byte, error) {
	var buf [24]byte
	tb, err := t.AppendBinary(buf[:0])
	if err != nil {
		return nil, err
	}
	return appendBytes(b, tb), nil
}

// encodeGobValues gob-encodes the values that are not native, through scs's own codec, so
// that they take exactly the path they took before. Its deadline is zero and unused.
func encodeGobValues(values map[string]interface{}) ([]byte, error) {
	return scs.GobCodec{}.Encode(time.Time{}, values)
}

// Decode reads a blob Encode wrote, or a gob blob scs.GobCodec wrote. A blob it cannot
// read is an error, never a panic.
func (sessionCodec) Decode(b []byte) (time.Time, map[string]interface{}, error) {
	if len(b) == 0 || b[0] != sessionCodecMagic {
		return scs.GobCodec{}.Decode(b)
	}
	r := sessionReader{b: b[1:]}
	if v := r.byte(); v != sessionCodecVersion {
		if r.err == nil {
			r.err = fmt.Errorf("%w: format version %d", errSessionCodec, v)
		}
		return time.Time{}, nil, r.err
	}
	deadline := r.time()
	n := r.uvarint()
	// Each entry takes at least two bytes (an empty key's length and a tag): a count past
	// that is corrupt, and must not size an allocation.
	if r.err == nil && n > uint64(len(r.b))/2 {
		r.fail()
	}
	if r.err != nil {
		return time.Time{}, nil, r.err
	}
	values := make(map[string]interface{}, n)
	for range n {
		k := string(r.bytes())
		v := r.value()
		if r.err != nil {
			return time.Time{}, nil, r.err
		}
		if _, dup := values[k]; dup {
			return time.Time{}, nil, fmt.Errorf("%w: key %q twice", errSessionCodec, k)
		}
		values[k] = v
	}
	g := r.bytes()
	if r.err == nil && len(r.b) != 0 {
		r.fail() // trailing bytes: not a blob Encode wrote
	}
	if r.err != nil {
		return time.Time{}, nil, r.err
	}
	if len(g) != 0 {
		_, others, err := scs.GobCodec{}.Decode(g)
		if err != nil {
			return time.Time{}, nil, fmt.Errorf("%w: %w", errSessionCodec, err)
		}
		for k, v := range others {
			if _, dup := values[k]; dup {
				return time.Time{}, nil, fmt.Errorf("%w: key %q twice", errSessionCodec, k)
			}
			values[k] = v
		}
	}
	return deadline, values, nil
}

// sessionReader reads a blob's fields in order. After the first failure every read
// returns a zero value and err keeps that failure, so Decode checks once per entry.
type sessionReader struct {
	b   []byte
	err error
}

// fail records that the blob is truncated or corrupt.
func (r *sessionReader) fail() {
	if r.err == nil {
		r.err = errSessionCodec
	}
	r.b = nil
}

func (r *sessionReader) byte() byte {
	if r.err != nil || len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c
}

func (r *sessionReader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

func (r *sessionReader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.fail()
		return 0
	}
	r.b = r.b[n:]
	return v
}

// bytes reads a length-prefixed field. The slice aliases the blob: callers copy it (a
// string conversion does).
func (r *sessionReader) bytes() []byte {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	s := r.b[:n:n]
	r.b = r.b[n:]
	return s
}

func (r *sessionReader) time() time.Time {
	tb := r.bytes()
	if r.err != nil {
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(tb); err != nil {
		r.err = fmt.Errorf("%w: %w", errSessionCodec, err)
		r.b = nil
	}
	return t
}

// value reads one tag and its payload.
func (r *sessionReader) value() interface{} {
	switch tag := r.byte(); tag {
	case sessionTagNil:
		return nil
	case sessionTagFalse:
		return false
	case sessionTagTrue:
		return true
	case sessionTagString:
		return string(r.bytes())
	case sessionTagBytes:
		// A copy: the blob belongs to the store. Empty is nil, as gob hands it back.
		raw := r.bytes()
		if len(raw) == 0 {
			return []byte(nil)
		}
		return append([]byte(nil), raw...)
	case sessionTagInt64:
		return r.varint()
	case sessionTagInt:
		v := r.varint()
		if int64(int(v)) != v {
			r.fail()
		}
		return int(v)
	case sessionTagInt32:
		v := r.varint()
		if v < math.MinInt32 || v > math.MaxInt32 {
			r.fail()
		}
		return int32(v)
	case sessionTagUint64:
		return r.uvarint()
	case sessionTagFloat64:
		if r.err != nil || len(r.b) < 8 {
			r.fail()
			return nil
		}
		v := math.Float64frombits(binary.LittleEndian.Uint64(r.b))
		r.b = r.b[8:]
		return v
	case sessionTagTime:
		return r.time()
	default:
		r.fail()
		return nil
	}
}
