package tufrepo

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/firmward/firmward"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/theupdateframework/go-tuf/v2/metadata"
)

// pemType is the PEM block type of a key file: PKCS #8, as written by
// `openssl genpkey -algorithm ed25519`.
const pemType = "PRIVATE KEY"

// GenerateKey returns a new ed25519 signing key.
func GenerateKey() (ed25519.PrivateKey, error) {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generating an ed25519 key: %w", err)
	}
	return priv, nil
}

// KeyID returns the TUF key id of the public half of priv: the hex SHA-256
// of the canonical JSON of its TUF key record.
func KeyID(priv ed25519.PrivateKey) (string, error) {
	k, err := metadata.KeyFromPublicKey(priv.Public())
	if err != nil {
		return "", fmt.Errorf("key id: %w", err)
	}
	return k.ID()
}

// encodeKey returns priv as a PEM PKCS #8 block.
func encodeKey(priv ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("encoding the key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// WriteNewKeyFile writes priv to path (PEM PKCS #8, mode 0600). It refuses
// to overwrite an existing file (ECONFLICT): a root key is precious.
func WriteNewKeyFile(path string, priv ed25519.PrivateKey) error {
	b, err := encodeKey(priv)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return firmward.Errorf(firmward.ECONFLICT, "%s already exists; refusing to overwrite a key file (choose another path or move it away)", path)
	}
	if err != nil {
		return fmt.Errorf("writing key file: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("writing key file %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		_ = os.Remove(path)
		return fmt.Errorf("writing key file %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(path)
		return fmt.Errorf("writing key file %s: %w", path, err)
	}
	return nil
}

// writeKeyFile writes priv to path atomically (mode 0600), replacing any
// file there.
func writeKeyFile(path string, priv ed25519.PrivateKey) error {
	b, err := encodeKey(priv)
	if err != nil {
		return err
	}
	return writeAtomic(path, b, 0o600)
}

// ReadKeyFile reads an ed25519 private key written by WriteNewKeyFile (or
// by `openssl genpkey -algorithm ed25519`). A file that is not such a key
// gives EINVALID naming the file.
func ReadKeyFile(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, firmward.Errorf(firmward.ENOTFOUND, "key file %s does not exist", path)
	}
	if err != nil {
		return nil, fmt.Errorf("reading key file: %w", err)
	}
	return parseKey(path, b)
}

// parseKey decodes a PEM PKCS #8 ed25519 private key; name is used in
// errors only.
func parseKey(name string, b []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(b)
	if block == nil || block.Type != pemType {
		return nil, firmward.Errorf(firmward.EINVALID, "%s is not a key file: want a PEM %q block", name, pemType)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, firmward.Errorf(firmward.EINVALID, "%s is not a key file: %v", name, err)
	}
	priv, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, firmward.Errorf(firmward.EINVALID, "%s holds a %T, want an ed25519 key", name, k)
	}
	return priv, nil
}

// signer wraps priv for go-tuf.
func signer(priv ed25519.PrivateKey) (signature.Signer, error) {
	s, err := signature.LoadED25519Signer(priv)
	if err != nil {
		return nil, fmt.Errorf("loading signer: %w", err)
	}
	return s, nil
}

// writeAtomic writes b to path through a temporary file in the same
// directory and a rename, so that readers (an HTTP file server) see the old
// or the new file, never a partial one.
func writeAtomic(path string, b []byte, perm os.FileMode) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.Write(b); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	ok = true
	return nil
}
