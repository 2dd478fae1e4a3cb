package storetest

import (
	"strings"
	"testing"
	"time"

	"github.com/syncwatch/syncwatch/internal/dashboard"
)

// Hostile is a row whose every text column carries what a careless or hostile writer
// could put there and PostgreSQL accepts (no NUL bytes, valid UTF-8, within the column
// sizes of shape A): markup, script, terminal escapes, a bell, a bidirectional override.
func Hostile() Row {
	msg := "<script>window.__pwned=1</script><img src=x onerror=\"window.__pwned=2\">\x1b[2J\a" +
		"\u202Egnp.exe " + strings.Repeat("A", 20000) + " api_key=sk_live_0123456789abcdef"
	return Row{
		CRMSource:    "x<b>\x1b[31m\u202E",
		SyncType:     "<img src=x onerror=\"window.__pwned=3\">",
		Status:       "failed",
		Start:        at(-time.Hour),
		End:          end(-30 * time.Minute),
		ErrorMessage: &msg,
	}
}

func hostileText(t *testing.T, h Harness) {
	d, fx := open(t, h, time.UTC, Now)
	odd := Hostile()
	odd.Status = "<s>\a"
	odd.CRMSource = "hubspot"
	fx.Insert(t, Hostile(), odd)

	var all []any
	crms, err := d.CRMStatus(ctx(t))
	all = append(all, crms, err)
	recent, err := d.RecentSyncs(ctx(t), dashboard.RecentQuery{Limit: 20})
	all = append(all, recent, err)
	errs, err := d.Errors(ctx(t), 7)
	all = append(all, errs, err)
	charts, err := d.Charts(ctx(t), 7)
	all = append(all, charts, err)
	for i := 1; i < len(all); i += 2 {
		if all[i] != nil {
			t.Fatal(all[i])
		}
	}
	// Messages are cut to about 4,100 characters in these answers.
	checkClean(t, all, 5000)
	// The markup is kept, as text: the page inserts it as text.
	if len(errs.RecentErrors) != 1 || errs.RecentErrors[0].ErrorMessage == nil ||
		!strings.HasPrefix(*errs.RecentErrors[0].ErrorMessage, "<script>window.__pwned=1</script>") {
		t.Errorf("got recent errors %+v, want the hostile failure with its markup as text", errs.RecentErrors)
	}
	if len(recent.Syncs) != 2 || recent.Syncs[0].SyncType != `<img src=x onerror="window.__pwned=3">` {
		t.Errorf("got %+v, want both rows with the entity's markup as text", recent.Syncs)
	}
}
