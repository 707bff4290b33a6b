// Empty: this crate exists only to pin and fetch oqs-sys.
