package config

// Limits of the files a config names (probes.ReadFileLimit reads them):
// none is read past its limit. Certificates and keys have
// probes.MaxPEMFileBytes.
const maxSecretFileBytes = 1 << 20 // *_file secrets: tokens, passwords, keys
