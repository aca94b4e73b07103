//! Receiver statistics (RFC 3550 A.1, A.3, A.8): jitter against a worked example, and loss
//! accounting across a sequence wrap.

use media::rtcp::ReceiverStats;

/// Feeds packets as (sequence, timestamp, arrival in timestamp units).
fn feed(packets: &[(u16, u32, u32)]) -> ReceiverStats {
    let mut s = ReceiverStats::new(7, packets[0].0);
    for &(seq, ts, arrival) in packets {
        s.update(seq, ts, Some(arrival));
    }
    s
}

#[test]
fn jitter_follows_the_a8_worked_example() {
    // The first packet only ends probation (A.1). Transit of the others: 0, 0, +40, 0, so
    // |D| = 0, 40, 40 and J(16x) = 0, 40, 40 + 40 - 3 = 77: the reported J is 77 / 16 = 4
    // (the real-valued estimate would be 2.5 then 4.84).
    let mut packets = vec![(100u16, 1000u32, 5000u32)];
    let extra = [0, 0, 40, 0];
    for (i, e) in extra.iter().enumerate() {
        let i = i as u32 + 1;
        packets.push((100 + i as u16, 1000 + 160 * i, 5000 + 160 * i + e));
    }
    let s = feed(&packets[..4]);
    assert_eq!(s.jitter(), 2);
    let s = feed(&packets);
    assert_eq!(s.jitter(), 4);
}

#[test]
fn constant_delay_is_no_jitter_even_across_a_timestamp_wrap() {
    let start = u32::MAX - 1000;
    let packets: Vec<_> = (0..50u32)
        .map(|i| {
            let ts = start.wrapping_add(160 * i);
            (i as u16, ts, ts.wrapping_add(777))
        })
        .collect();
    assert_eq!(feed(&packets).jitter(), 0);
}

#[test]
fn loss_is_counted_across_the_sequence_wrap() {
    // 65530 ends probation; 65531..=65535 then 0..=9 without 3 and 4.
    let seqs: Vec<u16> = (65530..=65535)
        .chain((0..=9).filter(|s| *s != 3 && *s != 4))
        .collect();
    let mut s = ReceiverStats::new(9, seqs[0]);
    for (i, seq) in seqs.iter().enumerate() {
        s.update(*seq, 160 * i as u32, None);
    }
    assert_eq!(s.extended_highest_seq(), 65536 + 9);
    assert_eq!(s.expected(), 15);
    assert_eq!(s.received(), 13);
    assert_eq!(s.lost(), 2);
    let r = s.report(0, 0);
    assert_eq!(r.ssrc, 9);
    assert_eq!(r.cumulative_lost, 2);
    assert_eq!(r.fraction_lost, (2u32 * 256 / 15) as u8);
    assert_eq!(r.extended_highest_seq, 65545);
    // The next interval loses nothing: fraction 0, the total stays.
    for seq in 10..=19u16 {
        s.update(seq, 0, None);
    }
    let r = s.report(0, 0);
    assert_eq!((r.fraction_lost, r.cumulative_lost), (0, 2));
}

#[test]
fn duplicates_count_as_received_and_can_make_loss_negative() {
    let mut s = ReceiverStats::new(1, 10);
    for seq in [10u16, 11, 12, 12, 12, 13] {
        s.update(seq, 0, None);
    }
    assert_eq!(s.expected(), 3);
    assert_eq!(s.received(), 5);
    assert_eq!(s.lost(), -2);
    assert_eq!(s.report(0, 0).fraction_lost, 0);
}

#[test]
fn a_sender_restarting_its_sequence_is_followed_after_two_packets() {
    let mut s = ReceiverStats::new(1, 1000);
    for seq in 1000..1010u16 {
        s.update(seq, 0, None);
    }
    assert!(
        !s.update(40000, 0, None),
        "one stray packet is not believed"
    );
    assert!(
        s.update(40001, 0, None),
        "the next in sequence restarts the counts"
    );
    assert_eq!(s.received(), 1);
    assert_eq!(s.expected(), 1);
    assert_eq!(s.extended_highest_seq(), 40001);
}
