package probes

import (
	"fmt"
	"io"
	"os"
)

// FileTooLargeError is the error of a file over the limit ReadFileLimit
// was given.
type FileTooLargeError struct {
	Size  string // "1234", or "more than N" when the file has no size (a device, a pipe)
	Limit int64
}

func (e *FileTooLargeError) Error() string {
	return fmt.Sprintf("the file is %s bytes, more than the limit of %d", e.Size, e.Limit)
}

// ReadFileLimit reads path whole, or fails with a *FileTooLargeError when
// it has more than limit bytes, having read at most one byte more: a
// mistake (a log file, /dev/zero) is an error, not a hang or an
// out-of-memory kill.
func ReadFileLimit(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if int64(len(data)) > limit {
		size := fmt.Sprintf("more than %d", limit)
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			size = fmt.Sprint(st.Size())
		}
		return nil, fmt.Errorf("%s: %w", path, &FileTooLargeError{Size: size, Limit: limit})
	}
	return data, nil
}
