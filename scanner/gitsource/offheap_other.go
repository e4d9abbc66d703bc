//go:build !unix

package gitsource

// offHeapWords returns n words from the heap: see the unix version.
func offHeapWords(n int) ([]uint64, func()) {
	return make([]uint64, n), func() {}
}

// offHeapBytes returns n bytes from the heap: see the unix version.
func offHeapBytes(n int) ([]byte, func()) {
	return make([]byte, n), func() {}
}
