package tufclient_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"

	"github.com/firmward/firmward/agent/tufclient"
)

// FuzzRefreshTimestamp serves the genuine repository with timestamp.json
// replaced by the fuzzer's bytes: the device must never panic, and may
// accept only metadata that is the genuine timestamp (possibly re-encoded).
func FuzzRefreshTimestamp(f *testing.F) {
	fx := newFixture(f)
	fx.release(f, "releases/1/a.bin", []byte("a")) // version 2 of every online role
	genuine := fx.state(f)
	ts := genuine["timestamp.json"]
	f.Add(ts)
	f.Add(bytes.Replace(ts, []byte(`"version":2`), []byte(`"version":3`), 1))
	f.Add([]byte(`{"signed":{"_type":"timestamp"},"signatures":[]}`))
	f.Add([]byte(`{}`))
	f.Add([]byte("not json"))
	var mu sync.Mutex
	f.Fuzz(func(t *testing.T, b []byte) {
		mu.Lock()
		defer mu.Unlock()
		served := merge(genuine, files{"timestamp.json": b})
		fx.mirror.serve(served)
		c := fx.deviceIn(t, t.TempDir())
		tr, err := c.Refresh(context.Background())
		if err != nil {
			return
		}
		if tr.TimestampVersion != 2 || tr.TargetsVersion != 2 {
			t.Fatalf("accepted forged metadata: %+v from %q", tr, b)
		}
	})
}

// FuzzVerify checks that Verify accepts exactly the signed content.
func FuzzVerify(f *testing.F) {
	signed := []byte("firmware image")
	sum := sha256.Sum256(signed)
	target := tufclient.Target{Name: "a.bin", Length: int64(len(signed)), Hashes: map[string]string{"sha256": hex.EncodeToString(sum[:])}}
	f.Add(signed)
	f.Add([]byte("firmware imagf"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		err := tufclient.Verify(bytes.NewReader(b), target)
		if (err == nil) != bytes.Equal(b, signed) {
			t.Fatalf("Verify(%q) = %v", b, err)
		}
	})
}
