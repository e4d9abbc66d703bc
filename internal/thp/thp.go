// Package thp asks Linux to back the Go heap with transparent huge pages.
//
// Go maps its heap in 4 KiB pages unless the system backs all memory
// with huge pages (transparent_hugepage=always); many distributions and
// VMs run with "madvise", where only memory a process asks for gets them.
// A history scan touches ~70 MB of fresh heap. On a VM where a page fault
// costs 12 µs that was ~20,000 faults, a quarter of a second of CPU on
// gitleaks' history; backed by 2 MiB pages it was ~9,000 faults in all
// and the scan's median wall time fell by 13-14% (1.35 to 1.18 s, CPU
// 2.36 to 2.11 s, peak RSS 100 to 103 MB; 9 interleaved runs).
package thp

import "sync"

// ReserveSize is how much heap a long scan reserves: gitleaks' history
// peaks at ~65 MB of heap; larger scans go past it in ordinary pages.
const ReserveSize = 96 << 20

var once sync.Once

// ReserveHeap makes the Go heap map n more bytes of address space now
// (an allocation that is dropped at once and never touched, so it costs
// no memory) and advises the kernel to back that mapping, and the heap
// mapping it joined, with huge pages. Heap that later grows into it
// faults in 2 MiB at a time. It reports the size of the advised mapping;
// where the system has no transparent huge pages it does nothing and
// says why. Only the first call in a process acts (the heap is the
// process's); later ones return 0, nil.
func ReserveHeap(n int) (advised int, err error) {
	once.Do(func() { advised, err = reserve(n) })
	return advised, err
}
