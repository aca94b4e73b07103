//! Gather's key handling, apart from the interpreter so its rules read in one place:
//! startDigits gate the input, finishOnKey submits, validDigits filter, numDigits completes,
//! and the timeout counts between keys, starting when the prompts end.

use crate::model::Gather;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOutcome {
    /// The key was not accepted (not a start digit yet, or not a valid digit).
    Ignored,
    /// The key was taken; keep listening.
    Taken,
    /// The input is complete: submit these digits.
    Submit(String),
}

#[derive(Debug, Clone)]
pub struct GatherInput {
    spec: Gather,
    digits: String,
    started: bool,
}

impl GatherInput {
    pub fn new(spec: Gather) -> Self {
        let started = spec.start_digits.is_empty();
        GatherInput {
            spec,
            digits: String::new(),
            started,
        }
    }

    pub fn spec(&self) -> &Gather {
        &self.spec
    }

    pub fn digits(&self) -> &str {
        &self.digits
    }

    pub fn on_key(&mut self, key: char) -> KeyOutcome {
        if !self.started {
            if !self.spec.start_digits.contains(key) {
                return KeyOutcome::Ignored;
            }
            // The start digit counts as the first of numDigits (reference).
            self.started = true;
            self.digits.push(key);
            return self.complete_if_full();
        }
        if self.spec.finish_on_key.contains(key) {
            return KeyOutcome::Submit(self.digits.clone());
        }
        if !self.spec.valid_digits.contains(key) {
            return KeyOutcome::Ignored;
        }
        self.digits.push(key);
        self.complete_if_full()
    }

    fn complete_if_full(&self) -> KeyOutcome {
        match self.spec.num_digits {
            Some(n) if self.digits.chars().count() >= n as usize => {
                KeyOutcome::Submit(self.digits.clone())
            }
            _ => KeyOutcome::Taken,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gather(finish: &str, num: Option<u32>, start: &str, valid: &str) -> GatherInput {
        GatherInput::new(Gather {
            action: None,
            finish_on_key: finish.into(),
            num_digits: num,
            timeout_secs: 5,
            start_digits: start.into(),
            valid_digits: valid.into(),
            prompts: vec![],
        })
    }

    #[test]
    fn finish_key_submits_without_itself() {
        let mut g = gather("#", None, "", "0123456789");
        assert_eq!(g.on_key('1'), KeyOutcome::Taken);
        assert_eq!(g.on_key('2'), KeyOutcome::Taken);
        assert_eq!(g.on_key('#'), KeyOutcome::Submit("12".into()));
    }

    #[test]
    fn num_digits_completes_and_invalid_keys_are_ignored() {
        let mut g = gather("", Some(2), "", "0123456789");
        assert_eq!(g.on_key('*'), KeyOutcome::Ignored);
        assert_eq!(g.on_key('4'), KeyOutcome::Taken);
        assert_eq!(
            g.on_key('#'),
            KeyOutcome::Ignored,
            "finishOnKey disabled and # not valid"
        );
        assert_eq!(g.on_key('2'), KeyOutcome::Submit("42".into()));
    }

    #[test]
    fn start_digits_gate_input_and_count_towards_num_digits() {
        let mut g = gather("#", Some(5), "*", "0123456789");
        assert_eq!(g.on_key('1'), KeyOutcome::Ignored);
        assert_eq!(g.on_key('*'), KeyOutcome::Taken);
        for k in ['1', '2', '3'] {
            assert_eq!(g.on_key(k), KeyOutcome::Taken);
        }
        assert_eq!(g.on_key('4'), KeyOutcome::Submit("*1234".into()));
        let mut g = gather("#*", None, "", "0123456789");
        g.on_key('7');
        assert_eq!(
            g.on_key('*'),
            KeyOutcome::Submit("7".into()),
            "several finish keys"
        );
    }
}
