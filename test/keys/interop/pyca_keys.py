"""Cross-checks key encodings with pyca/cryptography (ML-KEM-768/1024, ML-DSA-44/65/87).

Reads JSON from stdin: a list of {algorithm, seed, pkcs8Pem, spkiPem} made by src/keys. Writes JSON
to stdout with, per algorithm, the PKCS#8 and SPKI PEM that cryptography produces from the same
seed, and the raw public keys it reads from the given PEM files.
"""

import json
import sys

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem

PRIVATE_KEY_CLASSES = {
    "ML-KEM-768": mlkem.MLKEM768PrivateKey,
    "ML-KEM-1024": mlkem.MLKEM1024PrivateKey,
    "ML-DSA-44": mldsa.MLDSA44PrivateKey,
    "ML-DSA-65": mldsa.MLDSA65PrivateKey,
    "ML-DSA-87": mldsa.MLDSA87PrivateKey,
}


def raw_public_key(public_key):
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def main():
    results = {}
    for request in json.load(sys.stdin):
        key_class = PRIVATE_KEY_CLASSES[request["algorithm"]]
        own = key_class.from_seed_bytes(bytes.fromhex(request["seed"]))
        loaded_private = serialization.load_pem_private_key(request["pkcs8Pem"].encode(), None)
        loaded_public = serialization.load_pem_public_key(request["spkiPem"].encode())

        results[request["algorithm"]] = {
            "pkcs8Pem": own.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode(),
            "spkiPem": own.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode(),
            "publicKeyFromPkcs8": raw_public_key(loaded_private.public_key()),
            "publicKeyFromSpki": raw_public_key(loaded_public),
        }
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
