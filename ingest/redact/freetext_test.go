package redact

import (
	"strings"
	"testing"

	"github.com/authsift/authsift/classify"
)

// TestFreeText: the four free-text fields come back redacted, each as
// Redact gives it.
func TestFreeText(t *testing.T) {
	r := New([]byte("k"))
	ev := classify.Event{Reason: "bad code=SplxlOBeZQQYbYS6WxSbIA", Debug: `{"refresh_token":"tGzv3JOkF0XG5Qx2TlKWIA"}`,
		Detail: "client_secret=s3cr3t-value", RedirectURI: "https://app.example/cb?code=abc123456",
		ClientID: "web-app"}
	got := r.FreeText(&ev)
	want := FreeText{Reason: r.Redact(ev.Reason), Debug: r.Redact(ev.Debug), Detail: r.Redact(ev.Detail),
		RedirectURI: r.Redact(ev.RedirectURI)}
	if got != want {
		t.Fatalf("FreeText = %+v, want %+v", got, want)
	}
	for _, s := range []string{got.Reason, got.Debug, got.Detail, got.RedirectURI} {
		if !strings.Contains(s, "<redacted:") {
			t.Errorf("no redaction mark: %q", s)
		}
	}
}
