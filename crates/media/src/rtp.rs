//! RTP fixed header (RFC 3550 §5.1) for the packets we send and receive.

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RtpError {
    #[error("packet shorter than an RTP header")]
    TooShort,
    #[error("RTP version {0} is not 2")]
    Version(u8),
    #[error("header extension or CSRC list runs past the end of the packet")]
    Truncated,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RtpPacket<'a> {
    pub payload_type: u8,
    pub marker: bool,
    pub sequence: u16,
    pub timestamp: u32,
    pub ssrc: u32,
    pub payload: &'a [u8],
}

impl<'a> RtpPacket<'a> {
    pub fn parse(data: &'a [u8]) -> Result<Self, RtpError> {
        if data.len() < 12 {
            return Err(RtpError::TooShort);
        }
        let version = data[0] >> 6;
        if version != 2 {
            return Err(RtpError::Version(version));
        }
        let padding = data[0] & 0x20 != 0;
        let extension = data[0] & 0x10 != 0;
        let csrc_count = (data[0] & 0x0F) as usize;
        let mut offset = 12 + 4 * csrc_count;
        if extension {
            let ext = data
                .get(offset + 2..offset + 4)
                .ok_or(RtpError::Truncated)?;
            offset += 4 + 4 * u16::from_be_bytes([ext[0], ext[1]]) as usize;
        }
        let mut end = data.len();
        if padding {
            let pad = *data.last().ok_or(RtpError::Truncated)? as usize;
            end = end.checked_sub(pad).ok_or(RtpError::Truncated)?;
        }
        let payload = data.get(offset..end).ok_or(RtpError::Truncated)?;
        Ok(RtpPacket {
            payload_type: data[1] & 0x7F,
            marker: data[1] & 0x80 != 0,
            sequence: u16::from_be_bytes([data[2], data[3]]),
            timestamp: u32::from_be_bytes([data[4], data[5], data[6], data[7]]),
            ssrc: u32::from_be_bytes([data[8], data[9], data[10], data[11]]),
            payload,
        })
    }

    /// Writes the packet into `out` (cleared first) so the caller can reuse one buffer.
    pub fn write(&self, out: &mut Vec<u8>) {
        out.clear();
        out.push(0x80);
        out.push(self.payload_type & 0x7F | if self.marker { 0x80 } else { 0 });
        out.extend_from_slice(&self.sequence.to_be_bytes());
        out.extend_from_slice(&self.timestamp.to_be_bytes());
        out.extend_from_slice(&self.ssrc.to_be_bytes());
        out.extend_from_slice(self.payload);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_parse() {
        let payload = [1u8, 2, 3];
        let pkt = RtpPacket {
            payload_type: 0,
            marker: true,
            sequence: 65535,
            timestamp: 160,
            ssrc: 0xDEADBEEF,
            payload: &payload,
        };
        let mut buf = Vec::new();
        pkt.write(&mut buf);
        assert_eq!(buf.len(), 15);
        assert_eq!(RtpPacket::parse(&buf).unwrap(), pkt);
    }

    #[test]
    fn rejects_short_and_truncated_packets() {
        assert_eq!(RtpPacket::parse(&[0x80; 5]), Err(RtpError::TooShort));
        assert_eq!(RtpPacket::parse(&[0x40; 12]), Err(RtpError::Version(1)));
        let mut ext = vec![
            0x90, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0xBE, 0xDE, 0xFF, 0xFF,
        ];
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::Truncated));
        ext[0] = 0xA0;
        ext.truncate(12);
        ext.push(200);
        assert_eq!(RtpPacket::parse(&ext), Err(RtpError::Truncated));
    }
}
