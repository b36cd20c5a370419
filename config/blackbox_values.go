package config

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// parseBase2Bytes parses a size as blackbox_exporter's body_size_limit
// (alecthomas/units): "0", or numbers each with a unit, B, KB/KiB, MB/MiB,
// GB/GiB, TB/TiB, PB/PiB or EB/EiB, all powers of 1024 ("1.5MB", "1GB512MB").
func parseBase2Bytes(s string) (int64, error) {
	if s == "0" {
		return 0, nil
	}
	units := map[string]float64{"B": 1}
	for i, p := range []string{"K", "M", "G", "T", "P", "E"} {
		units[p+"B"] = float64(int64(1) << (10 * (i + 1)))
		units[p+"iB"] = units[p+"B"]
	}
	var total float64
	for rest := s; rest != ""; {
		num := strings.TrimLeft(rest, "0123456789.")
		unit := strings.TrimLeft(num, "ABEGKMPTi")
		n, err := strconv.ParseFloat(rest[:len(rest)-len(num)], 64)
		mult, ok := units[num[:len(num)-len(unit)]]
		if err != nil || !ok {
			return 0, fmt.Errorf("%q is not a size such as 10MB (units B, KB, MB, GB …, each 1024 of the one before)", s)
		}
		total += n * mult
		rest = unit
	}
	if total >= 1<<62 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	return int64(total), nil
}

// dollarShifts records, per line, the columns at which escapeDollars
// inserted a "$".
type dollarShifts map[int][]int

// escapeDollars doubles the "$" of every "${" in src, so that Decode, which
// expands ${VAR}, leaves it as written.
func escapeDollars(src []byte) ([]byte, dollarShifts) {
	if !bytes.Contains(src, []byte("${")) {
		return src, nil
	}
	shifts := dollarShifts{}
	var out bytes.Buffer
	for i, line := range bytes.SplitAfter(src, []byte("\n")) {
		for {
			j := bytes.Index(line, []byte("${"))
			if j < 0 {
				break
			}
			out.Write(line[:j])
			out.WriteByte('$')
			shifts[i+1] = append(shifts[i+1], utf8.RuneCount(out.Bytes()[bytes.LastIndexByte(out.Bytes(), '\n')+1:]))
			out.WriteString("${")
			line = line[j+2:]
		}
		out.Write(line)
	}
	return out.Bytes(), shifts
}

// unshift maps a column of the escaped text back to the original.
func (s dollarShifts) unshift(line, col int) int {
	n := 0
	for _, at := range s[line] {
		if at < col {
			n++
		}
	}
	return col - n
}
