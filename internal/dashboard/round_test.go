package dashboard

import "testing"

func TestRoundingIsExactHalfAwayFromZero(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	cases := []struct {
		name string
		got  *float64
		want *float64
	}{
		{"a rate of nothing is unknown", percent(0, 0), nil},
		{"two thirds", percent(2, 3), f(66.67)},
		{"one third", percent(1, 3), f(33.33)},
		{"exactly half a hundredth rounds up", percent(1, 8), f(12.5)},
		{"1.005 % (a float would give 1.0)", percent(201, 20000), f(1.01)},
		{"a mean of 0.35 s", meanSeconds(700_000, 2), f(0.4)},
		{"a mean of 0.25 s", meanSeconds(500_000, 2), f(0.3)},
		{"a mean of nothing is unknown", meanSeconds(0, 0), nil},
		{"a mean of years of microseconds", meanSeconds(9_000_000_000_000_000, 3), f(3_000_000_000)},
		{"records per second", perSecond(1523, 125_000_000), f(12.18)},
		{"half a hundredth per second", perSecond(1, 200_000_000), f(0.01)},
		{"no duration, no rate", perSecond(10, 0), nil},
		{"negative records round away from zero", perSecond(-1, 200_000_000), f(-0.01)},
		{"huge counts do not overflow", perSecond(2_147_483_647, 1), f(2_147_483_647_000_000)},
	}
	for _, c := range cases {
		switch {
		case c.want == nil && c.got != nil:
			t.Errorf("%s: got %v, want null", c.name, *c.got)
		case c.want != nil && (c.got == nil || *c.got != *c.want):
			t.Errorf("%s: got %v, want %v", c.name, c.got, *c.want)
		}
	}
}
