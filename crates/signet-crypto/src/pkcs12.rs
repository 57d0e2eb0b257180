//! Import of PKCS#12 bundles (RFC 7292) as `openssl pkcs12 -export` writes them: PBES2
//! (PBKDF2 + AES-CBC) shrouded key bags and encrypted certificate bags, integrity checked with
//! the HMAC MAC. The legacy RC2/3DES encryptions (`-legacy`) are refused with a clear message.

use aws_lc_rs::hmac;
use const_oid::ObjectIdentifier;
use der::asn1::OctetString;
use der::{Any, Decode, Encode, Sequence};
use spki::AlgorithmIdentifierOwned;
use zeroize::Zeroizing;

use crate::{CryptoError, HashAlgorithm, PrivateKey, ber, keyfile};

const ID_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.1");
const ID_ENCRYPTED_DATA: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.7.6");
const KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.1");
const SHROUDED_KEY_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.2");
const CERT_BAG: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.12.10.1.3");
const X509_CERTIFICATE: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.9.22.1");
const PBES2: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.840.113549.1.5.13");
/// Largest bundle accepted.
pub const MAX_PKCS12_LEN: usize = 4 * 1024 * 1024;
/// Most PBKDF2 iterations one bundle may cost, MAC and every decryption together (OpenSSL's
/// defaults cost 3 × 2,048; a bundle asking for more than this is refused before the work).
pub const MAX_TOTAL_ITERATIONS: u64 = 4_000_000;
/// Most safe contents and bags in one bundle.
pub const MAX_BAGS: usize = 64;

/// Charges `n` PBKDF2 iterations against the bundle's budget.
fn charge(budget: &mut u64, n: u32) -> Result<(), CryptoError> {
    let n = u64::from(n);
    if n > *budget {
        return Err(err(format!(
            "the bundle asks for more key-derivation work than {MAX_TOTAL_ITERATIONS} PBKDF2 iterations in all; refused before doing it"
        )));
    }
    *budget -= n;
    Ok(())
}

#[derive(Sequence)]
struct Pfx {
    version: u8,
    auth_safe: ContentInfo,
    mac_data: Option<MacData>,
}

#[derive(Sequence)]
struct ContentInfo {
    content_type: ObjectIdentifier,
    #[asn1(context_specific = "0", optional = "true")]
    content: Option<Any>,
}

#[derive(Sequence)]
struct DigestInfo {
    algorithm: AlgorithmIdentifierOwned,
    digest: OctetString,
}

#[derive(Sequence)]
struct MacData {
    mac: DigestInfo,
    mac_salt: OctetString,
    iterations: Option<u32>,
}

#[derive(Sequence)]
struct SafeBag {
    bag_id: ObjectIdentifier,
    #[asn1(context_specific = "0")]
    bag_value: Any,
    bag_attributes: Option<Any>,
}

#[derive(Sequence)]
struct CertBag {
    cert_id: ObjectIdentifier,
    #[asn1(context_specific = "0")]
    cert_value: OctetString,
}

#[derive(Sequence)]
struct EncryptedContentInfo {
    content_type: ObjectIdentifier,
    algorithm: AlgorithmIdentifierOwned,
    #[asn1(context_specific = "0", tag_mode = "IMPLICIT", optional = "true")]
    encrypted_content: Option<OctetString>,
}

#[derive(Sequence)]
struct EncryptedData {
    version: u8,
    encrypted_content_info: EncryptedContentInfo,
}

/// What a bundle held.
pub struct Pkcs12Contents {
    /// The private key.
    pub key: PrivateKey,
    /// Certificates (DER): the one matching the key first, then the others in file order.
    pub certificates: Vec<Vec<u8>>,
}

fn err(s: impl Into<String>) -> CryptoError {
    CryptoError::Pkcs12(s.into())
}

/// Parses a PKCS#12 bundle, checks its MAC and decrypts the key and certificates.
pub fn parse(data: &[u8], password: &[u8]) -> Result<Pkcs12Contents, CryptoError> {
    if data.len() > MAX_PKCS12_LEN {
        return Err(err("larger than 4 MiB"));
    }
    let der = match Pfx::from_der(data) {
        Ok(_) => data.to_vec(),
        Err(_) => ber::to_der(data).map_err(|e| err(format!("not a PKCS#12 file: {e}")))?,
    };
    let pfx = Pfx::from_der(&der).map_err(|e| err(format!("not a PKCS#12 file: {e}")))?;
    if pfx.version != 3 {
        return Err(err(format!("version {} (expected 3)", pfx.version)));
    }
    if pfx.auth_safe.content_type != ID_DATA {
        return Err(err("public-key integrity mode is not supported"));
    }
    let auth_safe = pfx
        .auth_safe
        .content
        .ok_or_else(|| err("empty authSafe"))?
        .decode_as::<OctetString>()
        .map_err(|e| err(e.to_string()))?;
    let auth_bytes = auth_safe.as_bytes();
    let mut budget = MAX_TOTAL_ITERATIONS;
    match &pfx.mac_data {
        Some(mac) => {
            charge(&mut budget, mac.iterations.unwrap_or(1))?;
            check_mac(mac, password, auth_bytes)?
        }
        None => return Err(err("the bundle has no MAC; refusing an unauthenticated bundle")),
    }
    let contents: Vec<ContentInfo> = Vec::from_der(auth_bytes).map_err(|e: der::Error| err(e.to_string()))?;
    if contents.len() > MAX_BAGS {
        return Err(err(format!("more than {MAX_BAGS} safe contents")));
    }
    let mut keys = Vec::new();
    let mut certs = Vec::new();
    let mut bag_count = 0usize;
    for ci in contents {
        let safe_contents: Zeroizing<Vec<u8>> = if ci.content_type == ID_DATA {
            let os = ci
                .content
                .ok_or_else(|| err("empty data"))?
                .decode_as::<OctetString>()?;
            Zeroizing::new(os.as_bytes().to_vec())
        } else if ci.content_type == ID_ENCRYPTED_DATA {
            let ed: EncryptedData = ci.content.ok_or_else(|| err("empty encryptedData"))?.decode_as()?;
            let eci = ed.encrypted_content_info;
            let ct = eci
                .encrypted_content
                .ok_or_else(|| err("encryptedData without content"))?;
            decrypt(&eci.algorithm, password, ct.as_bytes(), &mut budget)?
        } else {
            return Err(err(format!("unsupported content type {}", ci.content_type)));
        };
        let bags: Vec<SafeBag> = Vec::from_der(&safe_contents).map_err(|e: der::Error| err(e.to_string()))?;
        bag_count += bags.len();
        if bag_count > MAX_BAGS {
            return Err(err(format!("more than {MAX_BAGS} bags")));
        }
        for bag in bags {
            let is_key = bag.bag_id == SHROUDED_KEY_BAG || bag.bag_id == KEY_BAG;
            if is_key && !keys.is_empty() {
                return Err(err("expected exactly one private key, found a second one"));
            }
            if bag.bag_id == CERT_BAG {
                let cb: CertBag = bag.bag_value.decode_as()?;
                if cb.cert_id == X509_CERTIFICATE {
                    certs.push(cb.cert_value.as_bytes().to_vec());
                }
            } else if bag.bag_id == SHROUDED_KEY_BAG {
                let enc = bag.bag_value.to_der()?;
                charge(&mut budget, keyfile::pkcs8_iterations(&enc)?)?;
                let plain = keyfile::decrypt_pkcs8(&enc, password)?;
                keys.push(PrivateKey::from_pkcs8_der(&plain)?);
            } else if bag.bag_id == KEY_BAG {
                keys.push(PrivateKey::from_pkcs8_der(&bag.bag_value.to_der()?)?);
            }
        }
    }
    if keys.len() != 1 {
        return Err(err(format!("expected exactly one private key, found {}", keys.len())));
    }
    let key = keys.remove(0);
    let spki = key.public_key_der()?;
    if let Some(pos) = certs.iter().position(|c| contains(c, &spki)) {
        let leaf = certs.remove(pos);
        certs.insert(0, leaf);
    } else if !certs.is_empty() {
        return Err(err("no certificate in the bundle matches its private key"));
    }
    Ok(Pkcs12Contents {
        key,
        certificates: certs,
    })
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle)
}

fn decrypt(
    alg: &AlgorithmIdentifierOwned,
    password: &[u8],
    ct: &[u8],
    budget: &mut u64,
) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    if alg.oid != PBES2 {
        return Err(err(format!(
            "legacy encryption {} (RC2/3DES); re-export with OpenSSL 3 defaults (no -legacy)",
            alg.oid
        )));
    }
    let params_any = alg.parameters.as_ref().ok_or_else(|| err("PBES2 without parameters"))?;
    let params_der = params_any.to_der()?;
    let params = pkcs5::pbes2::Parameters::from_der(&params_der).map_err(|e| err(e.to_string()))?;
    charge(budget, keyfile::pbes2_iterations(&params))?;
    keyfile::pbes2_decrypt(&params, password, ct)
}

fn check_mac(mac: &MacData, password: &[u8], data: &[u8]) -> Result<(), CryptoError> {
    let hash = HashAlgorithm::from_oid(&mac.mac.algorithm.oid)
        .ok_or_else(|| err(format!("MAC digest {} unsupported", mac.mac.algorithm.oid)))?;
    let iterations = mac.iterations.unwrap_or(1);
    if iterations == 0 || iterations > keyfile::MAX_PBKDF2_ITERATIONS {
        return Err(err("MAC iteration count out of range"));
    }
    let bmp = bmp_password(password)?;
    let key = pkcs12_kdf(hash, &bmp, mac.mac_salt.as_bytes(), iterations, 3, hash.output_len());
    let alg = match hash {
        HashAlgorithm::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
        HashAlgorithm::Sha256 => hmac::HMAC_SHA256,
        HashAlgorithm::Sha384 => hmac::HMAC_SHA384,
        HashAlgorithm::Sha512 => hmac::HMAC_SHA512,
    };
    let k = hmac::Key::new(alg, &key);
    // hmac::verify compares in constant time.
    hmac::verify(&k, data, mac.mac.digest.as_bytes()).map_err(|_| CryptoError::WrongPassphrase)
}

/// The password as a NUL-terminated big-endian BMPString (RFC 7292 §B.1).
fn bmp_password(password: &[u8]) -> Result<Zeroizing<Vec<u8>>, CryptoError> {
    let s = std::str::from_utf8(password).map_err(|_| err("password is not UTF-8"))?;
    let mut out = Zeroizing::new(Vec::with_capacity(s.len() * 2 + 2));
    for u in s.encode_utf16() {
        out.extend_from_slice(&u.to_be_bytes());
    }
    out.extend_from_slice(&[0, 0]);
    Ok(out)
}

/// The PKCS#12 key derivation function (RFC 7292 §B.2).
fn pkcs12_kdf(
    hash: HashAlgorithm,
    password: &[u8],
    salt: &[u8],
    iterations: u32,
    id: u8,
    n: usize,
) -> Zeroizing<Vec<u8>> {
    let u = hash.output_len();
    let v = match hash {
        HashAlgorithm::Sha384 | HashAlgorithm::Sha512 => 128,
        _ => 64,
    };
    let d = vec![id; v];
    let fill = |src: &[u8]| -> Vec<u8> {
        if src.is_empty() {
            return Vec::new();
        }
        let len = v * src.len().div_ceil(v);
        (0..len).map(|i| src[i % src.len()]).collect()
    };
    let mut i_buf = Zeroizing::new(fill(salt));
    i_buf.extend_from_slice(&fill(password));
    let mut out = Zeroizing::new(Vec::with_capacity(n + u));
    while out.len() < n {
        let mut h = crate::digest::Hasher::new(hash);
        h.update(&d);
        h.update(&i_buf);
        let mut a = h.finish();
        for _ in 1..iterations {
            a = crate::digest::hash(hash, &a);
        }
        out.extend_from_slice(&a);
        if out.len() >= n {
            break;
        }
        let b: Vec<u8> = (0..v).map(|i| a[i % u]).collect();
        for block in i_buf.chunks_mut(v) {
            let mut carry = 1u16;
            for k in (0..v).rev() {
                let s = block[k] as u16 + b[k] as u16 + carry;
                block[k] = s as u8;
                carry = s >> 8;
            }
        }
    }
    out.truncate(n);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn garbage_is_a_pkcs12_error_not_a_panic() {
        assert!(parse(b"not a bundle", b"pw").is_err());
        assert!(parse(&[0x30, 0x80, 0x02, 0x01, 0x03], b"pw").is_err());
    }

    #[test]
    fn bmp_password_is_nul_terminated_utf16be() {
        assert_eq!(&bmp_password(b"ab").unwrap()[..], &[0, b'a', 0, b'b', 0, 0]);
    }
}
