// Command go_mlkem prints the ML-KEM encapsulation keys that Go's crypto/mlkem (Go 1.24 or
// later) derives from seeds. Input on stdin: JSON {"ML-KEM-768": "<seed hex>", ...}. Output:
// JSON with the same keys and the hex encapsulation keys.
package main

import (
	"crypto/mlkem"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
)

func encapsulationKey(algorithm string, seed []byte) ([]byte, error) {
	switch algorithm {
	case "ML-KEM-768":
		key, err := mlkem.NewDecapsulationKey768(seed)
		if err != nil {
			return nil, err
		}
		return key.EncapsulationKey().Bytes(), nil
	case "ML-KEM-1024":
		key, err := mlkem.NewDecapsulationKey1024(seed)
		if err != nil {
			return nil, err
		}
		return key.EncapsulationKey().Bytes(), nil
	}
	return nil, fmt.Errorf("crypto/mlkem does not implement %s", algorithm)
}

func main() {
	var seeds map[string]string
	if err := json.NewDecoder(os.Stdin).Decode(&seeds); err != nil {
		fmt.Fprintln(os.Stderr, "invalid input JSON:", err)
		os.Exit(1)
	}

	keys := map[string]string{}
	for algorithm, seedHex := range seeds {
		seed, err := hex.DecodeString(seedHex)
		if err != nil {
			fmt.Fprintln(os.Stderr, "invalid seed hex for", algorithm, err)
			os.Exit(1)
		}
		key, err := encapsulationKey(algorithm, seed)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		keys[algorithm] = hex.EncodeToString(key)
	}

	if err := json.NewEncoder(os.Stdout).Encode(keys); err != nil {
		fmt.Fprintln(os.Stderr, "writing output failed:", err)
		os.Exit(1)
	}
}
