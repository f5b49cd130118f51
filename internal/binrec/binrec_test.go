package binrec

import (
	"bytes"
	"errors"
	"math"
	"testing"
	"time"
)

func record() []byte {
	b := AppendString(nil, "héllo")
	b = AppendBytes(b, nil)
	b = AppendBytes(b, []byte{})
	b = AppendBytes(b, []byte("xyz"))
	b = AppendTime(b, time.Time{})
	b = AppendTime(b, time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC))
	b = AppendTime(b, time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC))
	b = append(b, 7)
	b = AppendLen(b, 2, false)
	return append(b, 1, 2, 3, 4)
}

func TestRoundTrip(t *testing.T) {
	r := NewReader(record())
	if s := r.Str(); s != "héllo" {
		t.Errorf("string %q", s)
	}
	if b := r.Bytes(); b != nil {
		t.Errorf("nil bytes came back as %q", b)
	}
	if b := r.Bytes(); b == nil || len(b) != 0 {
		t.Errorf("empty bytes came back as %#v", b)
	}
	if b := r.Bytes(); string(b) != "xyz" {
		t.Errorf("bytes %q", b)
	}
	if tm := r.Time(); !tm.IsZero() {
		t.Errorf("zero time came back as %v", tm)
	}
	for _, want := range []time.Time{time.Date(1, 1, 1, 0, 0, 0, 1, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.UTC)} {
		if tm := r.Time(); !tm.Equal(want) {
			t.Errorf("time %v, want %v", tm, want)
		}
	}
	if c, ok := r.Peek(); !ok || c != 7 || r.Byte() != 7 {
		t.Error("peek/byte")
	}
	if n, isNil := r.Len(2); n != 2 || isNil {
		t.Errorf("len %d %v", n, isNil)
	}
	sub := r.Take(2)
	var two [2]byte
	sub.Fixed(two[:])
	r.Adopt(&sub)
	if two != [2]byte{1, 2} || sub.Done() != nil {
		t.Errorf("take: %v %v", two, sub.Done())
	}
	if rest := r.Rest(); !bytes.Equal(rest, []byte{3, 4}) || r.Done() != nil {
		t.Errorf("rest %v, done %v", rest, r.Done())
	}
}

// Every truncation of a record is an error, never a panic, and the error
// sticks: later reads return zero values.
func TestTruncated(t *testing.T) {
	full := record()
	for n := range len(full) - 4 {
		r := NewReader(full[:n])
		r.Str()
		r.Bytes()
		r.Bytes()
		r.Bytes()
		r.Time()
		r.Time()
		r.Time()
		r.Byte()
		r.Len(2)
		sub := r.Take(4)
		sub.Fixed(make([]byte, 4))
		r.Adopt(&sub)
		if err := r.Done(); !errors.Is(err, ErrRecord) {
			t.Fatalf("cut at %d: %v", n, err)
		}
		if s := r.Str(); s != "" {
			t.Fatalf("read after an error: %q", s)
		}
	}
}

// Counts and lengths the bytes left cannot hold are refused before
// anything is allocated for them.
func TestAbsurdLengths(t *testing.T) {
	b := AppendLen(nil, math.MaxInt32, false)
	r := NewReader(b)
	if _, isNil := r.Len(1); !isNil || r.Err() == nil {
		t.Error("a length past the end was accepted")
	}
	r = NewReader(append(AppendLen(nil, 3, false), 1, 2))
	if r.Count(1); r.Err() == nil {
		t.Error("a count past the end was accepted")
	}
	r = NewReader([]byte{1, 0, 0x80, 0x94, 0xeb, 0xdc, 0x03}) // 1e9 ns
	if r.Time(); r.Err() == nil {
		t.Error("nanoseconds ≥ 1e9 accepted")
	}
	r = NewReader([]byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01})
	if r.Int(); r.Err() == nil {
		t.Error("an overlong varint accepted")
	}
}
