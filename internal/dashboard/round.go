package dashboard

import "math/big"

// The contract rounds every figure to a fixed number of decimals. Rounding a float64 would
// sometimes round the wrong way (93.745 is not representable), and a user who checks a
// figure with SQL's round() on numerics would see a different last digit. So every
// figure is computed from integers and rounded once, half away from zero, exactly.

// roundedRatio returns num/den × scale rounded to decimals places, exactly; nil when den
// is 0.
func roundedRatio(num, den, scale int64, decimals int) *float64 {
	if den == 0 {
		return nil
	}
	unit := int64(1)
	for range decimals {
		unit *= 10
	}
	// q = round(num × scale × unit / den), in big integers: sums of microseconds times
	// a unit can exceed int64.
	n := new(big.Int).Mul(big.NewInt(num), big.NewInt(scale*unit))
	d := big.NewInt(den)
	if d.Sign() < 0 {
		n.Neg(n)
		d.Neg(d)
	}
	neg := n.Sign() < 0
	n.Abs(n)
	n.Mul(n, big.NewInt(2)).Add(n, d)
	q := n.Quo(n, d.Mul(d, big.NewInt(2)))
	if neg {
		q.Neg(q)
	}
	f, _ := new(big.Rat).SetFrac(q, big.NewInt(unit)).Float64()
	return &f
}

// percent is 100 × part / whole to 2 decimals (success and failure rates).
func percent(part, whole int64) *float64 { return roundedRatio(part, whole, 100, 2) }

// meanSeconds is the mean of durations summed in microseconds, in seconds to 1 decimal.
func meanSeconds(sumMicros, count int64) *float64 {
	if count == 0 {
		return nil
	}
	return roundedRatio(sumMicros, count*1_000_000, 1, 1)
}

// perSecond is records per second of a duration in microseconds, to 2 decimals; nil for a
// zero duration.
func perSecond(records, durationMicros int64) *float64 {
	return roundedRatio(records, durationMicros, 1_000_000, 2)
}
