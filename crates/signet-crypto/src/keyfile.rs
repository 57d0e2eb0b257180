//! Key files: encrypted PKCS#8 (PBES2) writing and reading, and import of the plain PEM/DER
//! formats OpenSSL writes.
//!
//! Encryption is PBES2 (RFC 8018) with PBKDF2-HMAC-SHA256 and AES-256-CBC, computed with
//! aws-lc-rs; the ASN.1 types come from the `pkcs5`/`pkcs8` crates. `openssl pkey` reads the
//! result.

use aws_lc_rs::cipher::{
    AES_128, AES_192, AES_256, DecryptionContext, EncryptionContext, PaddedBlockDecryptingKey,
    PaddedBlockEncryptingKey, UnboundCipherKey,
};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use der::asn1::OctetString;
use der::{Decode, Encode};
use pkcs5::pbes2::{self, Kdf, Pbkdf2Params, Pbkdf2Prf};
use pkcs8::EncryptedPrivateKeyInfo;
use zeroize::Zeroizing;

use crate::pem::{self, is_pem};
use crate::{CryptoError, PrivateKey};

/// PBKDF2 iteration count for new key files (OWASP 2023 figure for PBKDF2-HMAC-SHA256).
pub const PBKDF2_ITERATIONS: u32 = 600_000;
/// Largest iteration count accepted when reading (bounds the work an input can demand: about
/// a second on this class of machine).
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;

/// Encrypts PKCS#8 DER under a passphrase; returns `ENCRYPTED PRIVATE KEY` DER.
pub fn encrypt_pkcs8(pkcs8_der: &[u8], passphrase: &[u8]) -> Result<Vec<u8>, CryptoError> {
    encrypt_pkcs8_with_iterations(pkcs8_der, passphrase, PBKDF2_ITERATIONS)
}

/// As [`encrypt_pkcs8`] with an explicit iteration count (tests and low-power devices).
pub fn encrypt_pkcs8_with_iterations(
    pkcs8_der: &[u8],
    passphrase: &[u8],
    iterations: u32,
) -> Result<Vec<u8>, CryptoError> {
    let rng = SystemRandom::new();
    let mut salt = [0u8; 16];
    let mut iv = [0u8; 16];
    rng.fill(&mut salt).map_err(|_| CryptoError::Operation("random"))?;
    rng.fill(&mut iv).map_err(|_| CryptoError::Operation("random"))?;
    let kdf = Pbkdf2Params::hmac_sha256(iterations, &salt).map_err(|e| CryptoError::KeyFormat(e.to_string()))?;
    let params = pbes2::Parameters {
        kdf: Kdf::Pbkdf2(kdf),
        encryption: pbes2::EncryptionScheme::Aes256Cbc { iv },
    };
    let key = derive_key(&params, passphrase)?;
    let unbound = UnboundCipherKey::new(&AES_256, &key).map_err(|_| CryptoError::Operation("AES key"))?;
    let enc = PaddedBlockEncryptingKey::cbc_pkcs7(unbound).map_err(|_| CryptoError::Operation("AES-CBC"))?;
    let mut data = pkcs8_der.to_vec();
    enc.less_safe_encrypt(&mut data, EncryptionContext::Iv128(iv.into()))
        .map_err(|_| CryptoError::Operation("AES-CBC encryption"))?;
    let info = EncryptedPrivateKeyInfo {
        encryption_algorithm: pkcs5::EncryptionScheme::Pbes2(params),
        encrypted_data: OctetString::new(data)?,
    };
    Ok(info.to_der()?)
}

/// Decrypts `ENCRYPTED PRIVATE KEY` DER (PBES2 with PBKDF2 and AES-CBC) into PKCS#8 DER.
pub fn decrypt_pkcs8(encrypted_der: &[u8], passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let info = EncryptedPrivateKeyInfo::<OctetString>::from_der(encrypted_der)?;
    let params = match &info.encryption_algorithm {
        pkcs5::EncryptionScheme::Pbes2(p) => p,
        _ => {
            return Err(CryptoError::UnsupportedAlgorithm(
                "PBES1 key encryption (DES/RC2); re-encrypt with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into(),
            ));
        }
    };
    pbes2_decrypt(params, passphrase, info.encrypted_data.as_bytes())
}

/// The PBKDF2 iteration count PBES2 parameters ask for (0 for other key derivations).
pub(crate) fn pbes2_iterations(params: &pbes2::Parameters) -> u32 {
    match &params.kdf {
        Kdf::Pbkdf2(p) => p.iteration_count,
        _ => 0,
    }
}

/// The PBKDF2 iteration count an encrypted PKCS#8 key asks for (0 when not PBES2/PBKDF2).
pub(crate) fn pkcs8_iterations(encrypted_der: &[u8]) -> Result<u32, CryptoError> {
    let info = EncryptedPrivateKeyInfo::<OctetString>::from_der(encrypted_der)?;
    Ok(match &info.encryption_algorithm {
        pkcs5::EncryptionScheme::Pbes2(p) => pbes2_iterations(p),
        _ => 0,
    })
}

/// Decrypts PBES2-encrypted bytes (also used for PKCS#12 bags).
pub(crate) fn pbes2_decrypt(
    params: &pbes2::Parameters,
    passphrase: &[u8],
    ciphertext: &[u8],
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let (alg, iv) = match params.encryption {
        pbes2::EncryptionScheme::Aes128Cbc { iv } => (&AES_128, iv),
        pbes2::EncryptionScheme::Aes192Cbc { iv } => (&AES_192, iv),
        pbes2::EncryptionScheme::Aes256Cbc { iv } => (&AES_256, iv),
        _ => {
            return Err(CryptoError::UnsupportedAlgorithm(
                "PBES2 cipher other than AES-CBC".into(),
            ));
        }
    };
    let key = derive_key(params, passphrase)?;
    let unbound = UnboundCipherKey::new(alg, &key).map_err(|_| CryptoError::Operation("AES key"))?;
    let dec = PaddedBlockDecryptingKey::cbc_pkcs7(unbound).map_err(|_| CryptoError::Operation("AES-CBC"))?;
    let mut buf = Zeroizing::new(ciphertext.to_vec());
    let n = dec
        .decrypt(&mut buf, DecryptionContext::Iv128(iv.into()))
        .map_err(|_| CryptoError::WrongPassphrase)?
        .len();
    buf.truncate(n);
    Ok(buf)
}

fn derive_key(params: &pbes2::Parameters, passphrase: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let kdf = match &params.kdf {
        Kdf::Pbkdf2(p) => p,
        _ => {
            return Err(CryptoError::UnsupportedAlgorithm(
                "scrypt key derivation; re-encrypt with PBKDF2 (`openssl pkcs8 -topk8 -v2 aes-256-cbc`)".into(),
            ));
        }
    };
    if kdf.iteration_count == 0 || kdf.iteration_count > MAX_PBKDF2_ITERATIONS {
        return Err(CryptoError::KeyFormat(format!(
            "PBKDF2 iteration count {} out of range",
            kdf.iteration_count
        )));
    }
    let prf = match kdf.prf {
        Pbkdf2Prf::HmacWithSha1 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA1,
        Pbkdf2Prf::HmacWithSha256 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA256,
        Pbkdf2Prf::HmacWithSha384 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA384,
        Pbkdf2Prf::HmacWithSha512 => aws_lc_rs::pbkdf2::PBKDF2_HMAC_SHA512,
        _ => return Err(CryptoError::UnsupportedAlgorithm("PBKDF2 PRF".into())),
    };
    let key_len = params.encryption.key_size();
    if let Some(l) = kdf.key_length
        && l as usize != key_len
    {
        return Err(CryptoError::KeyFormat(
            "PBKDF2 key length does not match the cipher".into(),
        ));
    }
    let mut key = Zeroizing::new(vec![0u8; key_len]);
    let iters = std::num::NonZeroU32::new(kdf.iteration_count).ok_or(CryptoError::Operation("iterations"))?;
    aws_lc_rs::pbkdf2::derive(prf, iters, kdf.salt.as_ref(), passphrase, &mut key);
    Ok(key)
}

/// Writes a key as an `ENCRYPTED PRIVATE KEY` PEM file's text.
pub fn to_encrypted_pem(key: &PrivateKey, passphrase: &[u8]) -> Result<String, CryptoError> {
    let der = key.to_pkcs8_der()?;
    pem::encode("ENCRYPTED PRIVATE KEY", &encrypt_pkcs8(&der, passphrase)?)
}

/// Whether a key file's content needs a passphrase to open.
pub fn needs_passphrase(data: &[u8]) -> bool {
    if is_pem(data) {
        return pem::parse_blocks(data)
            .map(|b| b.iter().any(|b| b.label == "ENCRYPTED PRIVATE KEY" || b.has_headers))
            .unwrap_or(false);
    }
    EncryptedPrivateKeyInfo::<OctetString>::from_der(data).is_ok()
}

/// Reads a private key from PEM or DER: encrypted PKCS#8 (with `passphrase`), PKCS#8,
/// PKCS#1 RSA and SEC 1 EC keys.
pub fn load_private_key(data: &[u8], passphrase: Option<&[u8]>) -> Result<PrivateKey, CryptoError> {
    let need = || CryptoError::KeyFormat("the key is encrypted: give a passphrase".into());
    if is_pem(data) {
        let blocks = pem::parse_blocks(data)?;
        for b in blocks {
            if b.has_headers {
                return Err(CryptoError::UnsupportedAlgorithm(
                    "legacy OpenSSL PEM encryption (Proc-Type header); convert with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
                        .into(),
                ));
            }
            let der = Zeroizing::new(b.der);
            return match b.label.as_str() {
                "ENCRYPTED PRIVATE KEY" => {
                    let plain = decrypt_pkcs8(&der, passphrase.ok_or_else(need)?)?;
                    PrivateKey::from_pkcs8_der(&plain).map_err(|_| CryptoError::WrongPassphrase)
                }
                "PRIVATE KEY" => PrivateKey::from_pkcs8_der(&der),
                "RSA PRIVATE KEY" => PrivateKey::from_pkcs1_der(&der),
                "EC PRIVATE KEY" => PrivateKey::from_sec1_der(&der),
                "EC PARAMETERS" => continue,
                other => continue_or(other),
            };
        }
        return Err(CryptoError::KeyFormat("no private key block in the PEM text".into()));
    }
    if let Ok(k) = PrivateKey::from_pkcs8_der(data) {
        return Ok(k);
    }
    if EncryptedPrivateKeyInfo::<OctetString>::from_der(data).is_ok() {
        let plain = decrypt_pkcs8(data, passphrase.ok_or_else(need)?)?;
        return PrivateKey::from_pkcs8_der(&plain).map_err(|_| CryptoError::WrongPassphrase);
    }
    PrivateKey::from_pkcs1_der(data)
        .or_else(|_| PrivateKey::from_sec1_der(data))
        .map_err(|_| CryptoError::KeyFormat("not a PEM or DER private key".into()))
}

fn continue_or(label: &str) -> Result<PrivateKey, CryptoError> {
    Err(CryptoError::KeyFormat(format!(
        "PEM block {label:?} is not a private key"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::KeyAlgorithm;

    #[test]
    fn encrypted_key_round_trips() {
        let k = PrivateKey::generate(KeyAlgorithm::EcdsaP256).unwrap();
        let enc = encrypt_pkcs8_with_iterations(&k.to_pkcs8_der().unwrap(), b"pw", 1000).unwrap();
        let plain = decrypt_pkcs8(&enc, b"pw").unwrap();
        assert_eq!(
            PrivateKey::from_pkcs8_der(&plain).unwrap().public_key_der().unwrap(),
            k.public_key_der().unwrap()
        );
    }

    #[test]
    fn wrong_passphrase_is_reported_as_such() {
        let k = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let enc = encrypt_pkcs8_with_iterations(&k.to_pkcs8_der().unwrap(), b"right", 1000).unwrap();
        let pem = pem::encode("ENCRYPTED PRIVATE KEY", &enc).unwrap();
        let r = load_private_key(pem.as_bytes(), Some(b"wrong"));
        assert!(matches!(r, Err(CryptoError::WrongPassphrase)), "{r:?}");
    }

    #[test]
    fn encrypted_key_without_passphrase_is_a_clear_error() {
        let k = PrivateKey::generate(KeyAlgorithm::Ed25519).unwrap();
        let enc = encrypt_pkcs8_with_iterations(&k.to_pkcs8_der().unwrap(), b"x", 1000).unwrap();
        assert!(needs_passphrase(&enc));
        assert!(load_private_key(&enc, None).is_err());
    }
}
