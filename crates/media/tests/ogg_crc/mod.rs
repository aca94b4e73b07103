//! Ogg page checksums for tests that build or damage Ogg files: a page whose CRC is wrong is
//! skipped by readers, so damage meant for the Vorbis headers must come with a fixed CRC.
#![allow(dead_code)]

/// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection) of `page`, its CRC field zeroed.
pub fn crc(page: &[u8]) -> u32 {
    page.iter().fold(0u32, |mut crc, &b| {
        crc ^= u32::from(b) << 24;
        for _ in 0..8 {
            crc = if crc & 0x8000_0000 != 0 {
                (crc << 1) ^ 0x04c1_1db7
            } else {
                crc << 1
            };
        }
        crc
    })
}

/// Recomputes the CRC of every whole page from the start of `data`.
pub fn fix_crcs(data: &mut [u8]) {
    let mut at = 0;
    while data.get(at..at + 4) == Some(b"OggS") && at + 27 <= data.len() {
        let segments = usize::from(data[at + 26]);
        let Some(lacing) = data.get(at + 27..at + 27 + segments) else {
            return;
        };
        let end = at + 27 + segments + lacing.iter().map(|&l| usize::from(l)).sum::<usize>();
        if end > data.len() {
            return;
        }
        data[at + 22..at + 26].fill(0);
        let sum = crc(&data[at..end]);
        data[at + 22..at + 26].copy_from_slice(&sum.to_le_bytes());
        at = end;
    }
}
