//! Secrets at rest: AES-256-GCM under a key-encryption key (KEK).
//!
//! Every sealed value carries a version byte and a random 96-bit nonce; the caller's `context`
//! (e.g. `"key:<id>"`) is bound as associated data, so a ciphertext moved to another row does not
//! decrypt.

use aws_lc_rs::aead::{AES_256_GCM, Aad, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use zeroize::Zeroizing;

use crate::CryptoError;

const VERSION: u8 = 1;

/// A 256-bit key-encryption key.
pub struct Kek {
    key: LessSafeKey,
}

impl std::fmt::Debug for Kek {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Kek(..)")
    }
}

impl Kek {
    /// A KEK from 32 bytes.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, CryptoError> {
        if bytes.len() != 32 {
            return Err(CryptoError::KeyFormat("a key-encryption key must be 32 bytes".into()));
        }
        let key = UnboundKey::new(&AES_256_GCM, bytes).map_err(|_| CryptoError::Operation("AES key setup"))?;
        Ok(Kek {
            key: LessSafeKey::new(key),
        })
    }

    /// A KEK from 64 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, CryptoError> {
        let bytes = Zeroizing::new(
            hex::decode(text.trim())
                .map_err(|_| CryptoError::KeyFormat("a key-encryption key must be 64 hex digits".into()))?,
        );
        Self::from_bytes(&bytes)
    }

    /// Generates a fresh KEK, returned as 64 hex digits for storage.
    pub fn generate_hex() -> Result<Zeroizing<String>, CryptoError> {
        let mut k = Zeroizing::new([0u8; 32]);
        crate::random_bytes(k.as_mut())?;
        Ok(Zeroizing::new(hex::encode(k.as_ref())))
    }

    /// Encrypts `plaintext`, binding `context`.
    pub fn seal(&self, context: &str, plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        crate::random_bytes(&mut nonce)?;
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut buf,
            )
            .map_err(|_| CryptoError::Operation("AES-GCM encryption"))?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        Ok(out)
    }

    /// Decrypts what [`Kek::seal`] produced with the same `context`.
    pub fn open(&self, context: &str, sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
        if sealed.len() < 1 + NONCE_LEN + 16 || sealed[0] != VERSION {
            return Err(CryptoError::WrongPassphrase);
        }
        let nonce =
            Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN]).map_err(|_| CryptoError::WrongPassphrase)?;
        let mut buf = Zeroizing::new(sealed[1 + NONCE_LEN..].to_vec());
        let len = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), buf.as_mut_slice())
            .map_err(|_| CryptoError::WrongPassphrase)?
            .len();
        buf.truncate(len);
        Ok(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_binds_context() {
        let kek = Kek::from_hex(&Kek::generate_hex().unwrap()).unwrap();
        let c = kek.seal("key:1", b"secret").unwrap();
        assert_eq!(kek.open("key:1", &c).unwrap().as_slice(), b"secret");
        assert!(kek.open("key:2", &c).is_err());
        let mut t = c.clone();
        let last = t.len() - 1;
        t[last] ^= 1;
        assert!(kek.open("key:1", &t).is_err());
        let other = Kek::from_bytes(&[1u8; 32]).unwrap();
        assert!(other.open("key:1", &c).is_err());
        assert!(kek.open("key:1", b"short").is_err());
        assert!(Kek::from_hex("abcd").is_err());
    }
}
