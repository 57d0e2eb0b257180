//! Images for visible stamps without an image codec: JPEG is embedded as is (DCTDecode);
//! 8-bit, non-interlaced PNG without alpha (greyscale or RGB) is embedded by passing its
//! zlib data through as FlateDecode with the PNG predictor. Anything else is refused with a
//! clear message.

use lopdf::{Dictionary, Object, Stream};

use crate::PdfError;

/// Largest image accepted.
pub const MAX_IMAGE_LEN: usize = 16 * 1024 * 1024;

/// An image ready to become an XObject.
#[derive(Clone, Debug)]
pub struct StampImage {
    /// Pixel width.
    pub width: u32,
    /// Pixel height.
    pub height: u32,
    dict: Dictionary,
    data: Vec<u8>,
}

impl StampImage {
    /// Reads a JPEG or PNG.
    pub fn from_bytes(b: &[u8]) -> Result<Self, PdfError> {
        if b.len() > MAX_IMAGE_LEN {
            return Err(PdfError::Refused("the stamp image is larger than 16 MiB".into()));
        }
        if b.starts_with(&[0xFF, 0xD8]) {
            return jpeg(b);
        }
        if b.starts_with(b"\x89PNG\r\n\x1a\n") {
            return png(b);
        }
        Err(PdfError::Refused("the stamp image must be a JPEG or PNG file".into()))
    }

    /// The image XObject.
    pub fn into_object(self) -> Object {
        Object::Stream(Stream::new(self.dict, self.data).with_compression(false))
    }
}

fn bad(what: &str) -> PdfError {
    PdfError::Refused(format!("unsupported or broken image: {what}"))
}

fn jpeg(b: &[u8]) -> Result<StampImage, PdfError> {
    let mut i = 2;
    while i + 4 <= b.len() {
        if b[i] != 0xFF {
            return Err(bad("JPEG marker expected"));
        }
        let marker = b[i + 1];
        if marker == 0xD8 || (0xD0..=0xD7).contains(&marker) || marker == 0x01 {
            i += 2;
            continue;
        }
        let len = u16::from_be_bytes([b[i + 2], b[i + 3]]) as usize;
        // SOF0..SOF15 except DHT (C4), JPG (C8), DAC (CC).
        if (0xC0..=0xCF).contains(&marker) && ![0xC4, 0xC8, 0xCC].contains(&marker) {
            let s = b.get(i + 4..i + 4 + 6).ok_or_else(|| bad("truncated JPEG"))?;
            let height = u16::from_be_bytes([s[1], s[2]]) as u32;
            let width = u16::from_be_bytes([s[3], s[4]]) as u32;
            let cs = match s[5] {
                1 => "DeviceGray",
                3 => "DeviceRGB",
                4 => "DeviceCMYK",
                _ => return Err(bad("JPEG with an unusual number of components")),
            };
            if width == 0 || height == 0 {
                return Err(bad("JPEG of zero size"));
            }
            let mut d = image_dict(width, height, cs);
            d.set("Filter", Object::Name(b"DCTDecode".to_vec()));
            return Ok(StampImage {
                width,
                height,
                dict: d,
                data: b.to_vec(),
            });
        }
        i += 2 + len;
    }
    Err(bad("no JPEG frame header"))
}

fn png(b: &[u8]) -> Result<StampImage, PdfError> {
    let mut i = 8;
    let mut ihdr = None;
    let mut idat = Vec::new();
    while i + 8 <= b.len() {
        let len = u32::from_be_bytes([b[i], b[i + 1], b[i + 2], b[i + 3]]) as usize;
        let kind = &b[i + 4..i + 8];
        let data = b.get(i + 8..i + 8 + len).ok_or_else(|| bad("truncated PNG"))?;
        match kind {
            b"IHDR" => ihdr = Some(data.to_vec()),
            b"IDAT" => idat.extend_from_slice(data),
            b"IEND" => break,
            _ => {}
        }
        i += 12 + len;
    }
    let h = ihdr.ok_or_else(|| bad("PNG without IHDR"))?;
    if h.len() < 13 {
        return Err(bad("short PNG header"));
    }
    let width = u32::from_be_bytes([h[0], h[1], h[2], h[3]]);
    let height = u32::from_be_bytes([h[4], h[5], h[6], h[7]]);
    let (depth, color, interlace) = (h[8], h[9], h[12]);
    let (cs, colors) = match color {
        0 => ("DeviceGray", 1),
        2 => ("DeviceRGB", 3),
        _ => {
            return Err(bad(
                "PNG with alpha or a palette; save it as RGB without transparency, or use JPEG",
            ));
        }
    };
    if depth != 8 || interlace != 0 || width == 0 || height == 0 || idat.is_empty() {
        return Err(bad("PNG must be 8-bit and not interlaced"));
    }
    let mut d = image_dict(width, height, cs);
    d.set("Filter", Object::Name(b"FlateDecode".to_vec()));
    let mut parms = Dictionary::new();
    parms.set("Predictor", Object::Integer(15));
    parms.set("Colors", Object::Integer(colors));
    parms.set("BitsPerComponent", Object::Integer(8));
    parms.set("Columns", Object::Integer(width as i64));
    d.set("DecodeParms", Object::Dictionary(parms));
    Ok(StampImage {
        width,
        height,
        dict: d,
        data: idat,
    })
}

fn image_dict(width: u32, height: u32, cs: &str) -> Dictionary {
    let mut d = Dictionary::new();
    d.set("Type", Object::Name(b"XObject".to_vec()));
    d.set("Subtype", Object::Name(b"Image".to_vec()));
    d.set("Width", Object::Integer(width as i64));
    d.set("Height", Object::Integer(height as i64));
    d.set("ColorSpace", Object::Name(cs.as_bytes().to_vec()));
    d.set("BitsPerComponent", Object::Integer(8));
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_what_it_cannot_embed() {
        assert!(StampImage::from_bytes(b"GIF89a").is_err());
        assert!(StampImage::from_bytes(&[0xFF, 0xD8, 0xFF]).is_err());
        assert!(StampImage::from_bytes(b"\x89PNG\r\n\x1a\n").is_err());
    }
}
