//go:build !linux

package thp

import "errors"

func reserve(int) (int, error) {
	return 0, errors.New("transparent huge pages are a Linux feature")
}
