package mqttnudge

import (
	"context"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"

	"github.com/firmward/firmward"
)

// actionList is a hand-written firmward.DeliveryService listing.
type actionList struct {
	mu      sync.Mutex // guards actions
	actions []*firmward.Action
}

func (l *actionList) add(id, device int64, st firmward.ActionStatus) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.actions = append(l.actions, &firmward.Action{ID: id, DeviceID: device, Status: st})
}

func (l *actionList) FindActions(_ context.Context, f firmward.ActionFilter) ([]*firmward.Action, int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []*firmward.Action
	for _, a := range l.actions {
		if a.ID > f.After && len(out) < f.Limit {
			out = append(out, a)
		}
	}
	var next int64
	if len(out) == f.Limit {
		next = out[len(out)-1].ID
	}
	return out, next, nil
}

type recorder struct{ devices []int64 }

func (r *recorder) Nudge(_ context.Context, id int64) error {
	r.devices = append(r.devices, id)
	return nil
}

func TestWatcher(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	l := &actionList{}
	for i := range int64(2500) { // existing actions, over several pages
		l.add(i+1, 1, firmward.ActionScheduled)
	}
	rec := &recorder{}
	w := &Watcher{Actions: l, Publisher: rec}
	if err := w.Start(ctx); err != nil {
		t.Fatal(err)
	}
	if n, err := w.Once(ctx); err != nil || n != 0 {
		t.Fatalf("Once with nothing new = %d, %v", n, err)
	}
	l.add(2501, 7, firmward.ActionScheduled)
	l.add(2502, 7, firmward.ActionScheduled) // same device: one nudge
	l.add(2503, 8, firmward.ActionCanceled)  // not open: none
	l.add(2504, 9, firmward.ActionScheduled)
	n, err := w.Once(ctx)
	if err != nil || n != 2 || !slices.Equal(rec.devices, []int64{7, 9}) {
		t.Fatalf("Once = %d, %v; nudged %v", n, err, rec.devices)
	}
	if n, _ := w.Once(ctx); n != 0 {
		t.Fatalf("a second Once nudged %d again", n)
	}
}

func broker(t *testing.T) string {
	t.Helper()
	const addr = "127.0.0.1:1883"
	c, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the MQTT broker is not reachable at %s: %v", addr, err)
		}
		t.Skipf("the MQTT broker is not reachable at %s (apt-get install mosquitto): %v", addr, err) //nolint:misspell // the package name
	}
	_ = c.Close()
	return "tcp://" + addr
}

// TestClientPublishes publishes a nudge through the real MQTT broker and
// receives it on the device's topic.
func TestClientPublishes(t *testing.T) {
	t.Parallel()
	url := broker(t)
	ctx := t.Context()
	got := make(chan string, 4)
	sub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker(url).SetClientID("mqttnudge-test-sub"))
	if tok := sub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer sub.Disconnect(100)
	dev := time.Now().UnixNano() % 1e9
	if tok := sub.Subscribe(Topic(dev), 1, func(_ mqtt.Client, m mqtt.Message) { got <- m.Topic() }); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("subscribe: %v", tok.Error())
	}
	c, err := Dial(ctx, url, "mqttnudge-test-pub", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Nudge(ctx, dev); err != nil {
		t.Fatal(err)
	}
	select {
	case topic := <-got:
		if topic != Topic(dev) {
			t.Fatalf("topic = %s", topic)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("no nudge arrived")
	}
}
