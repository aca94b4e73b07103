//! ITU-T G.711 µ-law and A-law, by the segment algorithm of the recommendation.

const BIAS: i32 = 0x84;
const CLIP: i32 = 32635;

pub fn linear_to_ulaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm < 0 {
        pcm = -pcm;
        0x80
    } else {
        0
    };
    pcm = pcm.min(CLIP) + BIAS;
    let exponent = (7 - ((pcm as u32) << 17).leading_zeros().min(7)) as i32;
    let mantissa = (pcm >> (exponent + 3)) & 0x0F;
    !(sign | (exponent << 4) | mantissa) as u8
}

pub fn ulaw_to_linear(code: u8) -> i16 {
    let code = !code as i32;
    let sign = code & 0x80;
    let exponent = (code >> 4) & 0x07;
    let mantissa = code & 0x0F;
    let magnitude = (((mantissa << 3) + BIAS) << exponent) - BIAS;
    (if sign != 0 { -magnitude } else { magnitude }) as i16
}

pub fn linear_to_alaw(sample: i16) -> u8 {
    let mut pcm = sample as i32;
    let sign = if pcm >= 0 { 0xD5 } else { 0x55 };
    if pcm < 0 {
        pcm = -pcm - 1;
    }
    pcm = pcm.min(32767);
    let code = if pcm < 256 {
        (pcm >> 4) as u8
    } else {
        let exponent = (15 - (pcm as u16).leading_zeros()) as i32 - 7;
        ((exponent << 4) | ((pcm >> (exponent + 3)) & 0x0F)) as u8
    };
    code ^ sign
}

pub fn alaw_to_linear(code: u8) -> i16 {
    let code = code ^ 0x55;
    let sign = code & 0x80;
    let exponent = ((code >> 4) & 0x07) as i32;
    let mantissa = (code & 0x0F) as i32;
    let magnitude = if exponent == 0 {
        (mantissa << 4) + 8
    } else {
        ((mantissa << 4) + 0x108) << (exponent - 1)
    };
    (if sign != 0 { magnitude } else { -magnitude }) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ulaw_reference_values() {
        // Values from the G.711 tables: 0 → 0xFF, full scale → 0x80 / 0x00.
        assert_eq!(linear_to_ulaw(0), 0xFF);
        assert_eq!(linear_to_ulaw(32767), 0x80);
        assert_eq!(linear_to_ulaw(-32768), 0x00);
        assert_eq!(ulaw_to_linear(0xFF), 0);
        assert_eq!(ulaw_to_linear(0x80), 32124);
        assert_eq!(ulaw_to_linear(0x00), -32124);
    }

    #[test]
    fn alaw_reference_values() {
        assert_eq!(linear_to_alaw(0), 0xD5);
        assert_eq!(linear_to_alaw(-1), 0x55);
        assert_eq!(alaw_to_linear(0xD5), 8);
        assert_eq!(alaw_to_linear(0xAA), 32256);
        assert_eq!(alaw_to_linear(0x2A), -32256);
    }

    #[test]
    fn every_code_round_trips() {
        for code in 0..=255u8 {
            let u = ulaw_to_linear(code);
            // 0x7F and 0xFF both decode to zero; they encode to 0xFF.
            if u != 0 {
                assert_eq!(linear_to_ulaw(u), code, "ulaw {code:#x}");
            }
            assert_eq!(linear_to_alaw(alaw_to_linear(code)), code, "alaw {code:#x}");
        }
    }

    #[test]
    fn quantisation_error_is_bounded() {
        for s in (-32768..=32767).step_by(7) {
            let s = s as i16;
            let err_u = (ulaw_to_linear(linear_to_ulaw(s)) as i32 - s as i32).abs();
            let err_a = (alaw_to_linear(linear_to_alaw(s)) as i32 - s as i32).abs();
            let bound = (s as i32).abs() / 16 + 16;
            assert!(err_u <= bound, "ulaw {s}: {err_u}");
            assert!(err_a <= bound, "alaw {s}: {err_a}");
        }
    }
}
