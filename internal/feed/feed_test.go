package feed_test

import (
	"testing"

	"github.com/syncwatch/syncwatch/internal/feed"
)

func TestASubscriberGetsTheLatestValueFirst(t *testing.T) {
	var f feed.Feed[int]
	f.Publish(1)
	f.Publish(2)
	s := f.Subscribe()
	defer s.Close()
	if got := <-s.C(); got != 2 {
		t.Fatalf("got %d, want the latest value 2", got)
	}
	select {
	case v := <-s.C():
		t.Fatalf("got %d after the latest value, want nothing more", v)
	default:
	}
}

func TestAStuckSubscriberNeverBlocksThePublisher(t *testing.T) {
	var f feed.Feed[int]
	stuck := f.Subscribe() // never read until the end
	defer stuck.Close()
	reader := f.Subscribe()
	defer reader.Close()
	// Were Publish to wait on the stuck subscriber, this loop would never finish and the
	// test would time out.
	for i := range 10000 {
		f.Publish(i)
		if got := <-reader.C(); got != i {
			t.Fatalf("reader got %d, want %d", got, i)
		}
	}
	if got := <-stuck.C(); got != 9999 {
		t.Fatalf("the stuck subscriber got %d, want the newest value 9999", got)
	}
}

func TestCloseEndsEverySubscription(t *testing.T) {
	var f feed.Feed[string]
	s := f.Subscribe()
	f.Publish("last")
	f.Close()
	if v, ok := <-s.C(); !ok || v != "last" {
		t.Fatalf("got %q, %v; want the value published before Close", v, ok)
	}
	if _, ok := <-s.C(); ok {
		t.Fatal("the channel stayed open after Close")
	}
	late := f.Subscribe()
	if _, ok := <-late.C(); ok {
		t.Fatal("a subscription to a closed feed received a value")
	}
	f.Publish("dropped") // must not panic on closed channels
	s.Close()            // closing twice is harmless
	late.Close()
}

func TestAClosedSubscriptionReceivesNothingMore(t *testing.T) {
	var f feed.Feed[int]
	s := f.Subscribe()
	s.Close()
	f.Publish(1)
	if _, ok := <-s.C(); ok {
		t.Fatal("a closed subscription received a value")
	}
}
