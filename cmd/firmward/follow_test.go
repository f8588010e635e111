package main

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/firmward/firmward"
	"github.com/firmward/firmward/httpapi"
)

// TestFollowReplicas runs two `firmward serve` replicas on one PostgreSQL
// database: a feed imported through replica A reaches replica B's
// matching engine through the change log (--assess-follow), so that a
// device created through B afterwards is matched against the new CVE.
// Neither replica runs a periodic full re-match, and A never learns of
// the device: only B's catch-up can open the finding.
func TestFollowReplicas(t *testing.T) {
	t.Parallel()
	nvd := filepath.Join("..", "..", "..", "shared", "data", "nvd", "api-2.0", "fkie-transcribed", "CVE-2023-1389.json")
	feed, err := os.ReadFile(nvd)
	if err != nil {
		t.Skipf("real data absent: %v", err)
	}
	dsn := replicaDSN(t)
	data := filepath.Join(t.TempDir(), "data")
	serve := func() *testServer {
		return startServer(t, data, nil, "serve", "--addr", "127.0.0.1:0", "--data", data, "--db", dsn,
			"--campaign-interval", "0", "--assess-interval", "0", "--assess-follow", "50ms")
	}
	a := serve()
	b := serve()
	apiA, apiB := httpapi.NewClient(a.URL, a.Token), httpapi.NewClient(b.URL, b.Token)

	res, err := apiA.ImportFeed(t.Context(), "CVE-2023-1389.json", bytes.NewReader(feed))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.ChangedCVEs) != 1 {
		t.Fatalf("import through A: %+v", res)
	}
	d, err := apiB.CreateDevice(t.Context(), &firmward.Device{
		Name: "office router", Manufacturer: "TP-Link", Model: "Archer AX21", HardwareVersion: "V3",
		FirmwareVersion: "1.1.3 Build 20221201 rel.62108",
	})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := apiB.ListFindings(t.Context(), httpapi.FindingQuery{DeviceID: d.ID, CVE: "CVE-2023-1389"})
		if err != nil {
			t.Fatal(err)
		}
		if len(list.Findings) == 1 && list.Findings[0].Status == firmward.FindingOpen {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no open CVE-2023-1389 finding on the device created through B after A imported it: %+v", list.Findings)
		}
		time.Sleep(50 * time.Millisecond) // polling the servers' state, not timing logic
	}
}
