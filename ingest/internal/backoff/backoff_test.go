package backoff

import (
	"context"
	"testing"
	"time"
)

func TestBackoffDoublesUpToMaxAndResets(t *testing.T) {
	b := New(time.Millisecond, 5*time.Millisecond)
	var got []time.Duration
	for range 5 {
		got = append(got, b.Delay())
		if !b.Wait(context.Background()) {
			t.Fatal("Wait ended early")
		}
	}
	want := []time.Duration{1, 2, 4, 5, 5}
	for i := range want {
		if got[i] != want[i]*time.Millisecond {
			t.Fatalf("delays %v, want %v ms", got, want)
		}
	}
	b.Reset()
	if b.Delay() != time.Millisecond {
		t.Fatalf("after Reset: %v", b.Delay())
	}
}

func TestSleepEndsWithContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if Sleep(ctx, time.Hour) {
		t.Fatal("Sleep of a cancelled context said true")
	}
}
