package creds

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPassword(t *testing.T) {
	f := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(f, []byte("s3cret\r\n"), 0o600)
	if got, err := Password("kafka", f, "AUTHSIFT_TEST_CREDS_PW"); err != nil || got != "s3cret" {
		t.Fatalf("from file: %q %v", got, err)
	}
	t.Setenv("AUTHSIFT_TEST_CREDS_PW", "from-env")
	if got, err := Password("kafka", "", "AUTHSIFT_TEST_CREDS_PW"); err != nil || got != "from-env" {
		t.Fatalf("from env: %q %v", got, err)
	}
	if _, err := Password("clickhouse", filepath.Join(t.TempDir(), "none"), ""); err == nil || !strings.Contains(err.Error(), "read clickhouse password file") {
		t.Fatalf("missing file: %v", err)
	}
}

func TestTLS(t *testing.T) {
	c, err := TLS("kafka", "", true)
	if err != nil || c.RootCAs != nil || !c.InsecureSkipVerify {
		t.Fatalf("no CA file: %+v %v", c, err)
	}
	bad := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(bad, []byte("not a certificate"), 0o600)
	if _, err := TLS("kafka", bad, false); err == nil || !strings.Contains(err.Error(), "kafka CA file") || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Fatalf("bad CA file: %v", err)
	}
	if _, err := TLS("clickhouse", filepath.Join(t.TempDir(), "none"), false); err == nil || !strings.Contains(err.Error(), "read clickhouse CA file") {
		t.Fatalf("missing CA file: %v", err)
	}
}
