package schedule

import (
	"slices"
	"testing"
)

func TestParseCrontabExpandsFieldsAsCeleryDoes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		field int // 0 minute, 1 hour, 2 day_of_week, 3 day_of_month, 4 month_of_year
		spec  string
		want  []int
	}{
		{"a star is every value", 1, "*", seq(0, 23)},
		{"a list holds each item", 0, "1,2,5", []int{1, 2, 5}},
		{"a range includes both ends", 0, "1-5", []int{1, 2, 3, 4, 5}},
		{"a star step starts at the field's lowest value", 3, "*/10", []int{1, 11, 21, 31}},
		{"a range step starts at the range's start", 0, "1-30/7", []int{1, 8, 15, 22, 29}},
		{"lists mix ranges and steps", 0, "1-5,10,20-30/3", []int{1, 2, 3, 4, 5, 10, 20, 23, 26, 29}},
		{"day names work in any case", 2, "MON-fri", []int{1, 2, 3, 4, 5}},
		{"full day names work", 2, "sunday,Saturday", []int{0, 6}},
		{"a day name is known by its first three letters", 2, "Sunshine", []int{0}},
		{"a day name is a number in any field", 0, "mon", []int{1}},
		{"a range past the end wraps around", 2, "fri-mon", []int{0, 1, 5, 6}},
		{"a stepped range that wraps steps over the wrapped list", 0, "50-10/7", []int{4, 50, 57}},
		{"text after a step is ignored", 0, "1-5/2/3", []int{1, 3, 5}},
		{"text after a range is ignored", 0, "1-5-7", []int{1, 2, 3, 4, 5}},
		{"a number may carry spaces, a plus sign and underscores", 0, " +1_0 ", []int{10}},
		{"non-ASCII decimal digits are numbers", 0, "١٢", []int{12}},
		{"a step larger than the field keeps the first value", 0, "*/99", []int{0}},
		{"a day name followed by a slash is just the day", 0, "fri/2", []int{5}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fields := [5]string{"*", "*", "*", "*", "*"}
			fields[tt.field] = tt.spec
			c, err := ParseCrontab(fields[0], fields[1], fields[2], fields[3], fields[4])
			if err != nil {
				t.Fatalf("ParseCrontab(%q) = %v, want no error", fields, err)
			}
			sets := [5]uint64{c.minutes, c.hours, c.weekdays, c.days, c.months}
			if got := members64(sets[tt.field]); !slices.Equal(got, tt.want) {
				t.Errorf("ParseCrontab(%q) field %d = %v, want %v", fields, tt.field, got, tt.want)
			}
		})
	}
}

func TestParseCrontabExplainsWhyItRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		fields [5]string
		want   string
	}{
		{"a minute past 59", [5]string{"61", "*", "*", "*", "*"}, `minute "61": 61 is out of range 0-59`},
		{"an hour of 24", [5]string{"0", "24", "*", "*", "*"}, `hour "24": 24 is out of range 0-23`},
		{"Sunday as 7", [5]string{"0", "0", "7", "*", "*"}, `day_of_week "7": 7 is out of range 0-6`},
		{"day 0 of the month", [5]string{"0", "0", "*", "0", "*"}, `day_of_month "0": 0 is out of range 1-31`},
		{"a day name in day_of_month", [5]string{"0", "0", "*", "sun", "*"}, `day_of_month "sun": "sun" is day 0, out of range 1-31`},
		{"a month name", [5]string{"0", "0", "*", "*", "jan"}, `month_of_year "jan": "jan" is neither a number nor a day name`},
		{"an empty field", [5]string{"", "*", "*", "*", "*"}, `minute is empty`},
		{"an empty list item", [5]string{"1,,2", "*", "*", "*", "*"}, `minute "1,,2": empty item in the list`},
		{"a zero step", [5]string{"*/0", "*", "*", "*", "*"}, `minute "*/0": step must not be 0`},
		{"a missing step", [5]string{"1-5/", "*", "*", "*", "*"}, `minute "1-5/": "1-5/" has no step after "/"`},
		{"a step that is not a number", [5]string{"*/x", "*", "*", "*", "*"}, `minute "*/x": step "x" is not a number`},
		{"a negative number", [5]string{"-1", "*", "*", "*", "*"}, `minute "-1": "-1": negative numbers are not allowed`},
		{"a number with a step but no range", [5]string{"5/2", "*", "*", "*", "*"}, `minute "5/2": "5/2" is neither a number nor a day name`},
		{"hour is reported before minute, in Celery's order", [5]string{"x", "y", "*", "*", "*"}, `hour "y": "y" is neither a number nor a day name`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseCrontab(tt.fields[0], tt.fields[1], tt.fields[2], tt.fields[3], tt.fields[4])
			if err == nil {
				t.Fatalf("ParseCrontab(%q) = nil error, want %q", tt.fields, tt.want)
			}
			if got := err.Error(); got != tt.want {
				t.Errorf("ParseCrontab(%q) error = %q, want %q", tt.fields, got, tt.want)
			}
		})
	}
}

func TestDecimalValueReadsEveryDigitPythonReads(t *testing.T) {
	t.Parallel()
	// pythonZeros are the characters whose int() is 0 in Python 3.11 (Unicode 14): the
	// start of every run of decimal digits. Listed by
	// /usr/bin/python3 -c "print([hex(c) for c in range(0x110000) if chr(c).isdecimal() and int(chr(c)) == 0])".
	pythonZeros := []rune{
		0x30, 0x660, 0x6f0, 0x7c0, 0x966, 0x9e6, 0xa66, 0xae6, 0xb66, 0xbe6, 0xc66, 0xce6,
		0xd66, 0xde6, 0xe50, 0xed0, 0xf20, 0x1040, 0x1090, 0x17e0, 0x1810, 0x1946, 0x19d0,
		0x1a80, 0x1a90, 0x1b50, 0x1bb0, 0x1c40, 0x1c50, 0xa620, 0xa8d0, 0xa900, 0xa9d0,
		0xa9f0, 0xaa50, 0xabf0, 0xff10, 0x104a0, 0x10d30, 0x11066, 0x110f0, 0x11136,
		0x111d0, 0x112f0, 0x11450, 0x114d0, 0x11650, 0x116c0, 0x11730, 0x118e0, 0x11950,
		0x11c50, 0x11d50, 0x11da0, 0x16a60, 0x16ac0, 0x16b50, 0x1d7ce, 0x1d7d8, 0x1d7e2,
		0x1d7ec, 0x1d7f6, 0x1e140, 0x1e2f0, 0x1e950, 0x1fbf0,
	}
	for _, zero := range pythonZeros {
		for k := range rune(10) {
			if got, ok := decimalValue(zero + k); !ok || got != int(k) {
				t.Errorf("decimalValue(%U) = %d, %v; want %d, true", zero+k, got, ok, k)
			}
		}
	}
	for _, r := range []rune{'a', '²', 'Ⅻ', '٫', '/', ' '} {
		if got, ok := decimalValue(r); ok {
			t.Errorf("decimalValue(%U) = %d, true; want false (Python's int() rejects it)", r, got)
		}
	}
}

func TestPythonIntFollowsPythonsIntSyntax(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in     string
		want   int64
		wantOK bool
	}{
		{"7", 7, true},
		{"007", 7, true},
		{" \t7\n", 7, true},
		{"\u00a07\u3000", 7, true},
		{"+7", 7, true},
		{"-7", -7, true},
		{"1_000", 1000, true},
		{"99999999999999999999999", maxParsed, true},
		{"", 0, false},
		{"+", 0, false},
		{"+ 7", 0, false},
		{"_7", 0, false},
		{"7_", 0, false},
		{"7__0", 0, false},
		{"\x1c7", 0, false},
		{"0x10", 0, false},
		{"1e1", 0, false},
		{"1.0", 0, false},
	}
	for _, tt := range tests {
		got, ok := pythonInt(tt.in)
		if got != tt.want || ok != tt.wantOK {
			t.Errorf("pythonInt(%q) = %d, %v; want %d, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
}

func seq(lo, hi int) []int {
	var out []int
	for v := lo; v <= hi; v++ {
		out = append(out, v)
	}
	return out
}
