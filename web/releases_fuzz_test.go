package web_test

import (
	"net/http"
	"strings"
	"testing"
)

// FuzzReleaseUploadBody sends arbitrary bodies to the streamed upload
// form: never a server error or a panic, and a release only with a 303.
func FuzzReleaseUploadBody(f *testing.F) {
	const boundary = "fuzzboundary"
	part := func(name, value string) string {
		return "--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" + value + "\r\n"
	}
	file := "--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"cam.bin\"\r\nContent-Type: application/octet-stream\r\n\r\nfirmware\r\n"
	good := part("csrf", "CSRF") + part("manufacturer", "Acme") + part("models", "Cam") + part("version", "1") +
		part("sha256", sum256("firmware")) + file + "--" + boundary + "--\r\n"
	f.Add(good)
	f.Add(strings.Replace(good, "name=\"file\"", "name=\"other\"", 1))
	f.Add(good[:len(good)/2])
	f.Add(file + part("csrf", "CSRF") + "--" + boundary + "--\r\n")
	f.Add(part("csrf", "CSRF") + part("csrf", "CSRF") + "--" + boundary + "--\r\n")
	f.Add("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/passwd\"\r\n\r\nx\r\n--" + boundary + "--\r\n")
	f.Add("not multipart at all")
	f.Fuzz(func(t *testing.T, body string) {
		e := newDeliveryEnv(t)
		op := e.browser()
		op.signIn(e.operator)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/releases", strings.NewReader(strings.ReplaceAll(body, "CSRF", op.csrf)))
		req.Header.Set("Content-Type", "multipart/form-data; boundary="+boundary)
		p := op.do(req) // fails the test on a 5xx
		if p.status != http.StatusSeeOther && e.countReleases() != 0 {
			t.Fatalf("status %d but a release was stored", p.status)
		}
	})
}

// FuzzCampaignFormBody sends arbitrary url-encoded bodies to the campaign
// form: never a server error or a panic, and a campaign only with a 303.
func FuzzCampaignFormBody(f *testing.F) {
	f.Add("csrf=CSRF&name=x&release_id=1&wave1_size=10%25&wave1_success=90&wave1_error=10")
	f.Add("csrf=CSRF&name=x&release_id=1&wave1_size=-5&staging_success=abc&window_cron=*+*&window_minutes=0")
	f.Add("csrf=CSRF&name=x&release_id=99999999999999999999&device_ids=1,2,x,-3&timeout_minutes=9999999999999")
	f.Add("csrf=CSRF&%zz=1")
	f.Fuzz(func(t *testing.T, body string) {
		e := newDeliveryEnv(t)
		op := e.browser()
		op.signIn(e.operator)
		req, _ := http.NewRequest(http.MethodPost, e.srv.URL+"/campaigns", strings.NewReader(strings.ReplaceAll(body, "CSRF", op.csrf)))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		p := op.do(req) // fails the test on a 5xx
		if p.status == http.StatusSeeOther {
			return
		}
		if p.status != http.StatusUnprocessableEntity && p.status != http.StatusConflict && p.status != http.StatusForbidden && p.status != http.StatusBadRequest {
			t.Errorf("status %d", p.status)
		}
	})
}
