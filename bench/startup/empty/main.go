// Command empty prints a line and exits: the start-up floor of a Go program on this machine, for
// bench/startup.
package main

import "fmt"

func main() { fmt.Println("custody start-up floor") }
