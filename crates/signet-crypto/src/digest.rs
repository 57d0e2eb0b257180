//! Streaming message digests.

use std::io::Read;

use crate::HashAlgorithm;

/// Size of the chunks read while hashing a stream.
pub const CHUNK: usize = 256 * 1024;

/// An incremental hash computation (cloned, it gives the digest of a prefix and goes on).
#[derive(Clone)]
pub struct Hasher(aws_lc_rs::digest::Context);

impl Hasher {
    /// Starts a new computation.
    pub fn new(alg: HashAlgorithm) -> Self {
        Hasher(aws_lc_rs::digest::Context::new(alg.aws()))
    }

    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        self.0.update(data);
    }

    /// Finishes and returns the digest.
    pub fn finish(self) -> Vec<u8> {
        self.0.finish().as_ref().to_vec()
    }
}

/// Hashes a byte slice in one go.
pub fn hash(alg: HashAlgorithm, data: &[u8]) -> Vec<u8> {
    aws_lc_rs::digest::digest(alg.aws(), data).as_ref().to_vec()
}

/// Hashes everything a reader yields, in fixed-size chunks (memory stays flat).
/// Returns the digest and the number of bytes read.
pub fn hash_reader<R: Read>(alg: HashAlgorithm, mut reader: R) -> std::io::Result<(Vec<u8>, u64)> {
    let mut h = Hasher::new(alg);
    let mut buf = vec![0u8; CHUNK];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        h.update(&buf[..n]);
        total += n as u64;
    }
    Ok((h.finish(), total))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sha256_of_abc_matches_fips_180_vector() {
        assert_eq!(
            hex(&hash(HashAlgorithm::Sha256, b"abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn streaming_equals_one_shot() {
        let data = vec![7u8; CHUNK * 2 + 17];
        let (d, n) = hash_reader(HashAlgorithm::Sha384, &data[..]).unwrap();
        assert_eq!(n as usize, data.len());
        assert_eq!(d, hash(HashAlgorithm::Sha384, &data));
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }
}
