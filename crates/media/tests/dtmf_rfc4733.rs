//! RFC 4733 telephone-events: the receiver reports each press once whatever the network does
//! to its packets, and the sender's packets read back as the digits and timing asked for.

use media::dtmf::rfc4733::{SenderTick, TelephoneEvent};
use media::dtmf::{DialTiming, DtmfEvent, TelephoneEventReceiver, TelephoneEventSender};

fn payload(event: u8, end: bool, duration: u16) -> [u8; 4] {
    TelephoneEvent {
        event,
        end,
        volume: 10,
        duration,
    }
    .to_bytes()
}

/// Feeds (timestamp, payload) pairs and collects what the receiver reports.
fn receive(packets: &[(u32, [u8; 4])]) -> Vec<DtmfEvent> {
    let mut rx = TelephoneEventReceiver::new(8000);
    let mut events = Vec::new();
    for (ts, p) in packets {
        rx.feed(*ts, p, |e| events.push(e)).unwrap();
    }
    events
}

/// A press as a well-behaved sender sends it: one packet per 20 ms with the duration so far,
/// the last one with the end bit, sent three times.
fn press(event: u8, timestamp: u32, packets: u16) -> Vec<(u32, [u8; 4])> {
    let mut out: Vec<_> = (1..packets)
        .map(|i| (timestamp, payload(event, false, i * 160)))
        .collect();
    for _ in 0..3 {
        out.push((timestamp, payload(event, true, packets * 160)));
    }
    out
}

#[test]
fn an_end_packet_sent_three_times_is_counted_once() {
    assert_eq!(
        receive(&press(5, 1000, 5)),
        vec![
            DtmfEvent::DigitStarted('5'),
            DtmfEvent::DigitEnded {
                digit: '5',
                duration_ms: 100
            }
        ]
    );
}

#[test]
fn a_long_press_is_reported_once_with_its_length() {
    // Two and a half seconds, every update also duplicated.
    let packets: Vec<_> = press(11, 4_000_000_000, 125)
        .into_iter()
        .flat_map(|p| [p, p])
        .collect();
    assert_eq!(
        receive(&packets),
        vec![
            DtmfEvent::DigitStarted('#'),
            DtmfEvent::DigitEnded {
                digit: '#',
                duration_ms: 2500
            }
        ]
    );
}

#[test]
fn a_press_whose_first_packets_were_lost_is_still_reported() {
    let packets = &press(2, 160, 6)[3..];
    assert_eq!(
        receive(packets),
        vec![
            DtmfEvent::DigitStarted('2'),
            DtmfEvent::DigitEnded {
                digit: '2',
                duration_ms: 120
            }
        ]
    );
}

#[test]
fn a_press_seen_only_by_its_end_packets_starts_and_ends_at_once() {
    let packets = &press(9, 160, 5)[4..];
    assert_eq!(
        receive(packets),
        vec![
            DtmfEvent::DigitStarted('9'),
            DtmfEvent::DigitEnded {
                digit: '9',
                duration_ms: 100
            }
        ]
    );
}

#[test]
fn a_new_press_ends_one_whose_end_packets_were_lost() {
    let mut packets = press(1, 8000, 5);
    packets.truncate(4);
    packets.extend(press(1, 8000 + 1600, 5));
    assert_eq!(
        receive(&packets),
        vec![
            DtmfEvent::DigitStarted('1'),
            DtmfEvent::DigitEnded {
                digit: '1',
                duration_ms: 80
            },
            DtmfEvent::DigitStarted('1'),
            DtmfEvent::DigitEnded {
                digit: '1',
                duration_ms: 100
            }
        ]
    );
}

#[test]
fn late_and_reordered_packets_of_an_earlier_press_are_ignored() {
    let first = press(3, 100, 5);
    let second = press(4, 100 + 1600, 5);
    // The second press overtakes the end of the first; the first's stragglers come after.
    let mut packets = first[..2].to_vec();
    packets.push(second[0]);
    packets.extend_from_slice(&first[2..]);
    packets.extend_from_slice(&second[1..]);
    packets.push(first[1]);
    assert_eq!(
        receive(&packets),
        vec![
            DtmfEvent::DigitStarted('3'),
            DtmfEvent::DigitEnded {
                digit: '3',
                duration_ms: 40
            },
            DtmfEvent::DigitStarted('4'),
            DtmfEvent::DigitEnded {
                digit: '4',
                duration_ms: 100
            }
        ]
    );
}

#[test]
fn audio_well_past_an_unfinished_press_ends_it() {
    let mut rx = TelephoneEventReceiver::new(8000);
    let mut events = Vec::new();
    for (ts, p) in &press(0, 50_000, 5)[..3] {
        rx.feed(*ts, p, |e| events.push(e)).unwrap();
    }
    // Audio right after the last update is normal; 200 ms past it means the end was lost.
    rx.observe_audio(50_000 + 480 + 160, |e| events.push(e));
    assert_eq!(events, vec![DtmfEvent::DigitStarted('0')]);
    rx.observe_audio(50_000 + 480 + 1601, |e| events.push(e));
    rx.observe_audio(50_000 + 480 + 1761, |e| events.push(e));
    assert_eq!(
        events[1..],
        [DtmfEvent::DigitEnded {
            digit: '0',
            duration_ms: 60
        }]
    );
}

#[test]
fn a_press_longer_than_one_segment_is_one_press() {
    // RFC 4733 §2.5.1.3: past 0xFFFF timestamp units the sender starts a new segment at the
    // old timestamp plus the old duration.
    let mut packets = vec![
        (0, payload(7, false, 160)),
        (0, payload(7, false, 0xFF00)),
        (0, payload(7, false, 0xFFFF)),
    ];
    packets.extend(press(7, 0xFFFF, 5));
    assert_eq!(
        receive(&packets),
        vec![
            DtmfEvent::DigitStarted('7'),
            DtmfEvent::DigitEnded {
                digit: '7',
                duration_ms: (0xFFFF + 800) / 8
            }
        ]
    );
}

#[test]
fn other_events_are_not_keys_but_end_the_press_before() {
    let mut packets = press(6, 0, 5);
    packets.truncate(2);
    packets.extend(press(16, 2000, 5)); // hook flash
    assert_eq!(
        receive(&packets),
        vec![
            DtmfEvent::DigitStarted('6'),
            DtmfEvent::DigitEnded {
                digit: '6',
                duration_ms: 40
            }
        ]
    );
}

#[test]
fn short_payloads_are_errors() {
    let mut rx = TelephoneEventReceiver::new(8000);
    assert!(rx
        .feed(0, &[1, 2], |_| panic!("nothing to report"))
        .is_err());
}

/// Runs a sender to the end: each tick's packet (if any) with the tick's own timestamp.
fn send(digits: &str, timing: DialTiming, first: u32) -> Vec<(u32, SenderTick)> {
    let sender = TelephoneEventSender::new(digits, timing, first).unwrap();
    sender
        .enumerate()
        .map(|(i, t)| (first.wrapping_add(160 * i as u32), t))
        .collect()
}

#[test]
fn sender_packets_follow_rfc_4733() {
    let ticks = send("5", DialTiming::default(), 1000);
    // 100 ms of tone (5 packets), the end packet twice more, then the rest of the gap.
    assert_eq!(ticks.len(), 10);
    let events: Vec<_> = ticks
        .iter()
        .filter_map(|(_, t)| match t {
            SenderTick::Event(p) => Some(*p),
            SenderTick::Audio => None,
        })
        .collect();
    assert_eq!(events.len(), 7);
    let parsed: Vec<TelephoneEvent> = events
        .iter()
        .map(|p| TelephoneEvent::parse(&p.payload).unwrap())
        .collect();
    for (i, (p, ev)) in events.iter().zip(&parsed).enumerate() {
        assert_eq!(p.timestamp, 1000, "one timestamp for the whole event");
        assert_eq!(p.marker, i == 0, "marker on the first packet only");
        assert_eq!(ev.event, 5);
        assert_eq!(ev.duration, (160 * (i + 1)).min(800) as u16);
        assert_eq!(ev.end, i >= 4);
    }
    assert!(ticks[7..].iter().all(|(_, t)| *t == SenderTick::Audio));
}

#[test]
fn sender_output_reads_back_as_the_digits_with_their_pauses() {
    let ticks = send("1,2#*", DialTiming::default(), u32::MAX - 3000);
    let mut rx = TelephoneEventReceiver::new(8000);
    let mut got = Vec::new();
    let mut starts = Vec::new();
    for (_, tick) in &ticks {
        if let SenderTick::Event(p) = tick {
            if p.marker {
                starts.push(p.timestamp);
            }
            rx.feed(p.timestamp, &p.payload, |e| got.push(e)).unwrap();
        }
    }
    let expected: Vec<DtmfEvent> = "12#*"
        .chars()
        .flat_map(|d| {
            [
                DtmfEvent::DigitStarted(d),
                DtmfEvent::DigitEnded {
                    digit: d,
                    duration_ms: 100,
                },
            ]
        })
        .collect();
    assert_eq!(got, expected);
    // Key to key: 200 ms, and the comma adds 500 ms.
    let gaps: Vec<u32> = starts.windows(2).map(|w| w[1].wrapping_sub(w[0])).collect();
    assert_eq!(gaps, vec![5600, 1600, 1600]);
    assert_eq!(ticks.len(), 10 + 25 + 10 + 10 + 10);
}

#[test]
fn short_gaps_delay_the_next_key_rather_than_drop_end_packets() {
    let timing = DialTiming {
        tone_ms: 40,
        gap_ms: 0,
        pause_ms: 0,
    };
    let ticks = send("12", timing, 0);
    let ends = ticks
        .iter()
        .filter(|(_, t)| {
            matches!(t, SenderTick::Event(p) if TelephoneEvent::parse(&p.payload).unwrap().end)
        })
        .count();
    assert_eq!(ends, 6);
    assert_eq!(ticks.len(), 2 * (2 + 2));
}
