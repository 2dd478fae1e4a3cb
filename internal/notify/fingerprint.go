package notify

import (
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
)

// Fingerprint returns the fingerprint Prometheus and Alertmanager give the label set of
// an alert named name with labels: FNV-1a (64 bits) over each label name and value, in
// name order, each followed by the byte 255, as 16 hexadecimal digits. The same alert
// therefore has the same fingerprint in syncwatch's messages and in Alertmanager.
func Fingerprint(name string, labels map[string]string) string {
	set := maps.Clone(labels)
	if set == nil {
		set = map[string]string{}
	}
	set["alertname"] = name
	h := fnv.New64a()
	for _, k := range slices.Sorted(maps.Keys(set)) {
		h.Write([]byte(k))
		h.Write([]byte{255})
		h.Write([]byte(set[k]))
		h.Write([]byte{255})
	}
	return fmt.Sprintf("%016x", h.Sum64())
}
