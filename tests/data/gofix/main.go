// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)

// Fixture: spins in main.kilnGoLeaf <- main.kilnGoMiddle <- main.main for the
// number of seconds given. Built stripped (-ldflags='-s -w'), so only
// .gopclntab names its functions.
package main

import (
	"os"
	"strconv"
	"time"
)

var sink uint64

//go:noinline
func kilnGoLeaf(n uint64) uint64 {
	acc := n
	for i := uint64(0); i < 200000; i++ {
		acc = acc*6364136223846793005 + 1442695040888963407
	}
	return acc
}

//go:noinline
func kilnGoMiddle(n uint64) uint64 {
	return kilnGoLeaf(n) + 1
}

func main() {
	secs := 5.0
	if len(os.Args) > 1 {
		if v, err := strconv.ParseFloat(os.Args[1], 64); err == nil {
			secs = v
		}
	}
	end := time.Now().Add(time.Duration(secs * float64(time.Second)))
	for time.Now().Before(end) {
		sink += kilnGoMiddle(sink)
	}
}
