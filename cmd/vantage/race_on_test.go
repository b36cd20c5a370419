//go:build race

package main

// raceBuild: the race detector slows the server several times over.
const raceBuild = true
