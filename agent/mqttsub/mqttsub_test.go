package mqttsub

import (
	"net"
	"os"
	"testing"
	"time"

	mqtt "github.com/eclipse/paho.mqtt.golang"
)

func TestSubscribe(t *testing.T) {
	t.Parallel()
	const addr = "127.0.0.1:1883"
	if c, err := net.DialTimeout("tcp", addr, 2*time.Second); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the MQTT broker is not reachable at %s: %v", addr, err)
		}
		t.Skipf("the MQTT broker is not reachable at %s (apt-get install mosquitto): %v", addr, err) //nolint:misspell // the package name
	} else {
		_ = c.Close()
	}
	dev := time.Now().UnixNano()%1e9 + 1
	nudges, err := Subscribe(t.Context(), Config{BrokerURL: "tcp://" + addr, ClientID: "mqttsub-test", DeviceID: dev})
	if err != nil {
		t.Fatal(err)
	}
	// The first value is the agent's own nudge after connecting.
	select {
	case <-nudges:
	case <-time.After(10 * time.Second):
		t.Fatal("no nudge after connecting")
	}
	pub := mqtt.NewClient(mqtt.NewClientOptions().AddBroker("tcp://" + addr).SetClientID("mqttsub-test-pub"))
	if tok := pub.Connect(); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
		t.Fatalf("connect: %v", tok.Error())
	}
	defer pub.Disconnect(100)
	// Another device's nudge does not reach this one; its own does.
	for _, d := range []int64{dev + 1, dev} {
		if tok := pub.Publish(Topic(d), 1, false, []byte{}); !tok.WaitTimeout(5*time.Second) || tok.Error() != nil {
			t.Fatalf("publish: %v", tok.Error())
		}
	}
	select {
	case <-nudges:
	case <-time.After(10 * time.Second):
		t.Fatal("the nudge did not arrive")
	}
	select {
	case <-nudges:
		t.Fatal("a nudge for another device arrived")
	case <-time.After(300 * time.Millisecond):
	}
	if _, err := Subscribe(t.Context(), Config{BrokerURL: "tcp://" + addr}); err == nil {
		t.Error("Subscribe without a device id succeeded")
	}
}
