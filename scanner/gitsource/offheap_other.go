//go:build !unix

package gitsource

// offHeapWords returns n words from the heap: see the unix version.
func offHeapWords(n int) ([]uint64, func()) {
	return make([]uint64, n), func() {}
}
