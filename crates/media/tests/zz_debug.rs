fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state >> 33
}
#[test]
fn dbg() {
    let mut rng = 7u64;
    let mut delay = |i: u32| {
        Some(if (100..500).contains(&i) {
            lcg(&mut rng) % 101
        } else {
            0
        })
    };
    let v: Vec<_> = (95..130).map(|i| delay(i)).collect();
    eprintln!("{v:?}");
}
