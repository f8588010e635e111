package httpapi

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/firmward/firmward"
)

func TestClientCannotConnect(t *testing.T) {
	t.Parallel()
	// A port that was just free: nothing listens there.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + l.Addr().String()
	_ = l.Close()
	_, err = NewClient(url, "fwt_x").Whoami(context.Background())
	if err == nil || !strings.Contains(err.Error(), "is `firmward serve` running at "+url) {
		t.Errorf("err %v, want advice to check the server", err)
	}
}

func TestClientCanceled(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := e.client(firmward.RoleViewer).Whoami(ctx)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err %v, want context.Canceled", err)
	}
}

func TestClientForeignErrors(t *testing.T) {
	t.Parallel()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "<html>upstream down</html>", http.StatusBadGateway)
	}))
	defer proxy.Close()
	_, err := NewClient(proxy.URL+"/", "fwt_x").DeviceStats(context.Background())
	var fe *firmward.Error
	if !errors.As(err, &fe) || fe.Code != firmward.EINTERNAL || !strings.Contains(fe.Message, "502") || !strings.Contains(fe.Message, "upstream down") {
		t.Errorf("err %#v", err)
	}
}

func TestClientNoToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	_, err := NewClient(e.ts.URL, "").Whoami(context.Background())
	var fe *firmward.Error
	if !errors.As(err, &fe) || fe.Code != firmward.EUNAUTHORIZED || !strings.Contains(fe.Message, "no token was sent") {
		t.Errorf("err %v", err)
	}
}

func TestClientMiscRoutes(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	c := e.client("")
	if err := c.Health(ctx); err != nil {
		t.Errorf("Health: %v", err)
	}
	doc, err := c.OpenAPI(ctx)
	if err != nil || !bytes.Contains(doc, []byte(`"openapi": "3.1.0"`)) {
		t.Errorf("OpenAPI: %v %.100s", err, doc)
	}
	e.setNotReady(errors.New("no"))
	if err := c.Health(ctx); err == nil {
		t.Error("Health with the server not ready: nil")
	}
	if _, err := e.client(firmward.RoleOperator).ImportDevices(ctx, "xml", strings.NewReader(""), false); firmward.ErrorCode(err) != firmward.EINVALID {
		t.Errorf("import xml: %v", err)
	}
}
