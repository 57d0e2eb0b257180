//! signet-pki
