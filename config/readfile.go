package config

import (
	"fmt"
	"io"
	"os"
)

// Limits of the files a config names. None is read past its limit, so a
// mistake (a log file, /dev/zero) is an error, not a hang or an
// out-of-memory kill.
const (
	maxSecretFileBytes = 1 << 20 // *_file secrets: tokens, passwords, keys
	maxRefFileBytes    = 8 << 20 // certificates and keys named by ca_file and friends
)

// fileTooLarge is the error of a file over its limit.
type fileTooLarge struct {
	size  string
	limit int64
}

func (e *fileTooLarge) Error() string {
	return fmt.Sprintf("the file is %s bytes, more than the limit of %d", e.size, e.limit)
}

// readFileLimit reads path whole, or fails with *fileTooLarge when it has
// more than limit bytes, having read at most one byte more.
func readFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		size := fmt.Sprintf("more than %d", limit)
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = fmt.Sprint(st.Size())
		}
		return nil, fmt.Errorf("%s: %w", path, &fileTooLarge{size: size, limit: limit})
	}
	return data, nil
}
