package clock_test

import (
	"context"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/clock"
)

var start = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

func TestFakeTickerTicksOncePerAdvance(t *testing.T) {
	f := clock.NewFake(start)
	tk := f.NewTicker(time.Second)
	defer tk.Stop()
	select {
	case <-tk.C():
		t.Fatal("ticked before any time passed")
	default:
	}
	f.Advance(999 * time.Millisecond)
	select {
	case <-tk.C():
		t.Fatal("ticked before its period")
	default:
	}
	f.Advance(time.Millisecond)
	if got := <-tk.C(); !got.Equal(start.Add(time.Second)) {
		t.Fatalf("tick at %v, want %v", got, start.Add(time.Second))
	}
	// Five periods at once give one tick, as a real ticker drops unread ticks.
	f.Advance(5 * time.Second)
	<-tk.C()
	select {
	case <-tk.C():
		t.Fatal("two ticks for one Advance")
	default:
	}
	if got := f.Now(); !got.Equal(start.Add(6 * time.Second)) {
		t.Fatalf("Now() = %v", got)
	}
}

func TestFakeTimerFiresOnceAndStops(t *testing.T) {
	f := clock.NewFake(start)
	tm := f.NewTimer(time.Minute)
	if f.Waiters() != 1 {
		t.Fatalf("waiters = %d, want 1", f.Waiters())
	}
	f.Advance(time.Minute)
	<-tm.C()
	if tm.Stop() {
		t.Error("Stop reported stopping a timer that had fired")
	}
	if f.Waiters() != 0 {
		t.Errorf("waiters = %d after firing, want 0", f.Waiters())
	}
	stopped := f.NewTimer(time.Minute)
	if !stopped.Stop() {
		t.Error("Stop of a waiting timer reported false")
	}
	f.Advance(time.Hour)
	select {
	case <-stopped.C():
		t.Error("a stopped timer fired")
	default:
	}
}

func TestBlockUntilWaitsForALoopToMakeItsTicker(t *testing.T) {
	f := clock.NewFake(start)
	ready := make(chan struct{})
	go func() {
		<-ready
		f.NewTicker(time.Second)
	}()
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	if err := f.BlockUntil(ctx, 1); err == nil {
		t.Fatal("BlockUntil returned before any ticker existed")
	}
	cancel()
	close(ready)
	if err := f.BlockUntil(context.Background(), 1); err != nil {
		t.Fatal(err)
	}
}
